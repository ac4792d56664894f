"""Bounded read functions of the UI's pages: (session, values) -> plain rows.

Every list has a limit; every filter is on an indexed column or a bounded set.
"""
