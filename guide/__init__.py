"""Lots: the Flask application that wires content, scheduler and activation codes together."""
