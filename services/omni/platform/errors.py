"""Errors the domain and handlers raise; entrypoints map each class to one gRPC status code."""

from __future__ import annotations


class OmniError(Exception):
    """Base of every expected error; its message is shown to the caller as is."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InvalidArgument(OmniError):
    """The request is malformed; retrying it unchanged will fail again."""


class NotFound(OmniError):
    """A referenced entity does not exist."""


class AlreadyExists(OmniError):
    """The entity exists already, or an idempotency key was reused for another request."""


class FailedPrecondition(OmniError):
    """The system is not in a state that allows the request (wrong state, not enough stock)."""


class Conflict(OmniError):
    """A concurrent change won; the request may be retried as is (gRPC ABORTED)."""


class Unavailable(OmniError):
    """A dependency (database, NATS) is down, or the service is overloaded; retry later, after
    `retry_after` seconds when it says (sent as google.rpc.RetryInfo)."""

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class PermissionDenied(OmniError):
    """The caller may not do this."""


class Unauthenticated(OmniError):
    """The caller did not say who it is, or not credibly."""
