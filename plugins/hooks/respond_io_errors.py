"""
respond.io outcomes: typed errors, the one response classifier, and the per-call result.

Every HTTP response and every transport failure of the respond.io client goes through
:func:`classify_response` / :func:`classify_exception`; the retry loop in
:meth:`hooks.respond_io.RespondIoHook.call` acts only on the classes defined here:

===============================  ====================================  ==========
Outcome                          Error                                 Retried?
===============================  ====================================  ==========
2xx                              none                                  --
429                              :class:`RespondIoRateLimited`         yes, after ``Retry-After``
449, 5xx, timeout, connection    :class:`RespondIoRetryableError`      yes, backoff + jitter
404 right after a create         :class:`RespondIoNotReady`            yes, backoff + jitter
404 otherwise                    :class:`RespondIoNotFound`            no
401, 403                         :class:`RespondIoAuthError`           no (fails the task)
400, 409, other 4xx              :class:`RespondIoPermanentError`      no
===============================  ====================================  ==========

Task-level retry policies can name these by dotted path, e.g. ``hooks.respond_io_errors.RespondIoAuthError``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

import requests

from hooks.respond_io_limits import parse_rate_headers

__all__ = [
    "CallResult",
    "ErrorClass",
    "RespondIoAuthError",
    "RespondIoError",
    "RespondIoNotFound",
    "RespondIoNotReady",
    "RespondIoPaginationError",
    "RespondIoPermanentError",
    "RespondIoRateLimited",
    "RespondIoRetryableError",
    "classify_exception",
    "classify_response",
    "error_message",
]

ErrorClass = Literal["rate_limited", "retryable", "not_ready", "not_found", "auth", "permanent"]

#: Longest snippet of a response body kept in an error message.
BODY_SNIPPET = 200
RETRYABLE_STATUSES = frozenset({449, 500, 502, 503, 504})


class RespondIoError(Exception):
    """Base of every respond.io client error.

    :param status: HTTP status, ``None`` for transport failures.
    :param message: respond.io's ``message`` (or a short description); never contains the token.
    :param endpoint: the endpoint key, e.g. ``POST /contact/{identifier}/tag``.
    """

    error_class: ErrorClass = "permanent"
    retryable: bool = False

    def __init__(self, status: int | None, message: str, *, endpoint: str = "") -> None:
        self.status = status
        self.message = message
        self.endpoint = endpoint
        where = f" on {endpoint}" if endpoint else ""
        what = status if status is not None else "transport error"
        super().__init__(f"respond.io {what}{where}: {message}")


class RespondIoRetryableError(RespondIoError):
    """Transient: 449, 5xx, timeouts, connection errors. Retried with exponential backoff and jitter."""

    error_class: ErrorClass = "retryable"
    retryable = True


class RespondIoRateLimited(RespondIoRetryableError):
    """429: the endpoint's budget is spent; retried after ``retry_after`` seconds."""

    error_class: ErrorClass = "rate_limited"

    def __init__(
        self, status: int | None, message: str, *, endpoint: str = "", retry_after: float | None
    ) -> None:
        super().__init__(status, message, endpoint=endpoint)
        self.retry_after = retry_after


class RespondIoNotReady(RespondIoRetryableError):
    """404 for a contact created moments ago: respond.io processes creates asynchronously."""

    error_class: ErrorClass = "not_ready"


class RespondIoPermanentError(RespondIoError):
    """400, 409 and other 4xx: retrying cannot help; reported per contact."""

    error_class: ErrorClass = "permanent"


class RespondIoNotFound(RespondIoPermanentError):
    """404: no such contact (a normal answer to a lookup)."""

    error_class: ErrorClass = "not_found"


class RespondIoAuthError(RespondIoPermanentError):
    """401/403: the token is missing, wrong or lacks permission. Fails fast, never retried."""

    error_class: ErrorClass = "auth"


class RespondIoPaginationError(RespondIoError):
    """The API sent a cursor it already sent: following it would loop forever."""


def error_message(response: requests.Response) -> str:
    """respond.io's ``message`` from an error body, else a short snippet of the body."""
    try:
        body = response.json()
    except ValueError:
        body = None
    if isinstance(body, dict) and body.get("message"):
        message = str(body["message"])
        errors = body.get("errors")
        if isinstance(errors, list) and errors:
            details = "; ".join(
                f"{e.get('field')}: {e.get('message')}" for e in errors[:5] if isinstance(e, dict)
            )
            message = f"{message} ({details})" if details else message
        return message[:BODY_SNIPPET]
    text = (response.text or "").strip().replace("\n", " ")
    return text[:BODY_SNIPPET] or (response.reason or "no body")


def classify_response(
    response: requests.Response, *, endpoint: str = "", recently_created: bool = False
) -> RespondIoError | None:
    """Classify one response: ``None`` for success, else the typed error (not raised).

    :param response: the HTTP response.
    :param endpoint: endpoint key for messages.
    :param recently_created: the path names a contact this client created moments ago, so a 404 means
        "not processed yet" (retryable) rather than "does not exist".
    """
    status = response.status_code
    if 200 <= status < 300:
        return None
    message = error_message(response)
    if status == 429:
        _, _, retry_after = parse_rate_headers(response.headers)
        return RespondIoRateLimited(status, message, endpoint=endpoint, retry_after=retry_after)
    if status in RETRYABLE_STATUSES or status >= 500:
        return RespondIoRetryableError(status, message, endpoint=endpoint)
    if status in (401, 403):
        hint = "check the respond.io connection's password (the API token)"
        return RespondIoAuthError(status, f"{message} - {hint}", endpoint=endpoint)
    if status == 404:
        if recently_created:
            return RespondIoNotReady(status, message, endpoint=endpoint)
        return RespondIoNotFound(status, message, endpoint=endpoint)
    return RespondIoPermanentError(status, message, endpoint=endpoint)


def classify_exception(exc: requests.RequestException, *, endpoint: str = "") -> RespondIoError:
    """Classify a transport failure. Timeouts and connection errors are retryable; the rest permanent.

    Only the exception's class name is kept: its text can contain the URL.
    """
    if isinstance(exc, (requests.Timeout, requests.ConnectionError)):
        return RespondIoRetryableError(None, type(exc).__name__, endpoint=endpoint)
    return RespondIoPermanentError(None, type(exc).__name__, endpoint=endpoint)


@dataclass(frozen=True)
class CallResult:
    """The classified outcome of one API call (after retries).

    :param ok: the call succeeded.
    :param status: last HTTP status (``None`` after a transport failure).
    :param endpoint: endpoint key.
    :param contact_id: the contact id the API returned, when it returns one.
    :param data: parsed JSON body of a success.
    :param error_class: category of the failure, ``None`` on success.
    :param message: failure message (safe to log: no token).
    :param attempts: HTTP requests sent for this call, retries included.
    :param error: the final typed error, for :meth:`raise_for_error`.
    """

    ok: bool
    status: int | None
    endpoint: str
    contact_id: int | None = None
    data: Any = None
    error_class: ErrorClass | None = None
    message: str | None = None
    attempts: int = 1
    error: RespondIoError | None = field(default=None, repr=False, compare=False)

    @property
    def not_found(self) -> bool:
        return self.error_class == "not_found"

    def raise_for_error(self) -> CallResult:
        """Raise the call's typed error if it failed; return ``self`` otherwise."""
        if self.error is not None:
            raise self.error
        return self

    @classmethod
    def success(cls, response: requests.Response, endpoint: str, attempts: int, data: Any) -> CallResult:
        contact_id = _contact_id(data)
        return cls(True, response.status_code, endpoint, contact_id=contact_id, data=data, attempts=attempts)

    @classmethod
    def failure(cls, error: RespondIoError, endpoint: str, attempts: int) -> CallResult:
        return cls(
            False,
            error.status,
            endpoint,
            error_class=error.error_class,
            message=error.message,
            attempts=attempts,
            error=error,
        )


def _contact_id(data: Any) -> int | None:
    """``contactId`` of a write response, or ``id`` of a contact object."""
    if not isinstance(data, dict):
        return None
    value: Any = data.get("contactId")
    if value is None and "firstName" in data:
        value = data.get("id")
    try:
        return int(value) if value is not None else None
    except (TypeError, ValueError):
        return None
