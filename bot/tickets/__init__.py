"""Tickets: their data, their lifecycle, their service levels and the flows that change them."""
