"""Presentation at the edge: docker-compatible tables, templates and JSON."""
