"""esmbot: a Microsoft Teams bot that speaks for an IT service desk."""
