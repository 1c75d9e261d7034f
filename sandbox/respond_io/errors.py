"""respond.io error bodies: ``{"code": <status>, "message": "<text>"}``."""

from __future__ import annotations

from typing import Any

from starlette.responses import JSONResponse

__all__ = ["ApiError", "error_response", "not_found", "validation_error"]

UNAUTHORIZED_MESSAGE = "UN_AUTHORIZED"
VALIDATION_MESSAGE = "Validation error."
CONTACT_NOT_FOUND = "Contact not found"

_DEFAULT_MESSAGES: dict[int, str] = {
    400: VALIDATION_MESSAGE,
    401: UNAUTHORIZED_MESSAGE,
    404: "Not found",
    405: "Method not allowed",
    409: "Conflict",
    429: "Too many requests",
    449: "Retry With",
    500: "Internal server error",
    502: "Bad gateway",
    503: "Service unavailable",
    504: "Gateway timeout",
}


class ApiError(Exception):
    """Raised by handlers; rendered as a respond.io error body with the given status."""

    def __init__(
        self, status: int, message: str | None = None, *, errors: list[dict[str, str]] | None = None
    ):
        super().__init__(message or _DEFAULT_MESSAGES.get(status, "Error"))
        self.status = status
        self.message = message or _DEFAULT_MESSAGES.get(status, "Error")
        self.errors = errors

    def body(self) -> dict[str, Any]:
        body: dict[str, Any] = {"code": self.status, "message": self.message}
        if self.errors:
            body["errors"] = self.errors
        return body


def validation_error(field: str, message: str) -> ApiError:
    """A 400 "Validation error." naming the offending field."""
    return ApiError(400, VALIDATION_MESSAGE, errors=[{"field": field, "message": message}])


def not_found(message: str = CONTACT_NOT_FOUND) -> ApiError:
    return ApiError(404, message)


def default_message(status: int) -> str:
    return _DEFAULT_MESSAGES.get(status, "Error")


def error_response(
    status: int, message: str | None = None, headers: dict[str, str] | None = None
) -> JSONResponse:
    """A ready JSON response with the respond.io error body."""
    return JSONResponse(
        {"code": status, "message": message or default_message(status)}, status, headers=headers
    )
