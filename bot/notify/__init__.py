"""Who hears what: routing ticket events to audiences, rendering messages, the outbox and delivery."""
