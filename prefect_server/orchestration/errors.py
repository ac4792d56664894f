"""Exceptions raised by the domain layer.

The GraphQL layer turns any of them into an error whose ``message`` is ``str(exc)``,
exactly as Server 1 did, so the texts passed to these classes are part of the wire
contract (the 1.4.1 client matches several of them literally).
"""

from __future__ import annotations


class APIError(Exception):
    """Base class: a refused request. Nothing has been written when it is raised."""


class ValidationFailed(APIError, ValueError):
    """Bad input: missing ids, malformed values, constraint violations (Server 1's ValueError)."""


class NotFound(APIError, LookupError):
    """A referenced object does not exist where Server 1 raised NotFound."""


class StateUpdateFailed(APIError):
    """A state transition was refused (version mismatch, double submission, …)."""


class Unauthorized(APIError):
    """Server 1's mapping of Hasura "Check constraint violation"; the text keeps its word."""


class InternalAPIError(APIError):
    """Server 1's ``APIError``: an internal failure, reported with a fixed text."""

    def __init__(
        self, message: str = "Unable to complete operation. An internal API error occurred."
    ):
        super().__init__(message)


UNIQUENESS_VIOLATION = "Uniqueness violation."
FOREIGN_KEY_VIOLATION = "Foreign key violation."
