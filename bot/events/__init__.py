"""Ticket events in and out: Jira webhooks and REST, the generic event API."""
