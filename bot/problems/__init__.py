"""Problems: tickets that stand for the cause of many, the tickets linked to them, and spikes."""
