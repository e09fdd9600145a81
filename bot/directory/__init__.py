"""Who is where: people, their Teams conversations, roles and the channels bound to audiences."""
