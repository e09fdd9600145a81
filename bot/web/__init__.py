"""esmbot's HTTP surface apart from the Bot Framework: errors as JSON, health and readiness."""
