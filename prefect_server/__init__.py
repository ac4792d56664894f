"""A single-process, drop-in re-implementation of Prefect Server 1.x."""

__version__ = "0.1.0"
