"""Wiring: settings, the app factory, the command line and the scheduler."""
