"""Seeing inside the server: metrics, the request context of log lines, log formats."""
