"""Service-level reports: the KPIs of a period, computed from the ticket tables."""
