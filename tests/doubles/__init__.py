"""Doubles of the services esmbot talks to, served over real HTTP for tests."""
