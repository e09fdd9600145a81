"""Time-driven work: the sweep of due actions on every replica, once-only jobs on the leader."""
