"""Trying esmbot without Azure: an in-process Bot Connector double and the scripted demo."""
