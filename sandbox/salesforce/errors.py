"""Errors in the Salesforce REST shape: a JSON array ``[{"message", "errorCode", "fields"?}]``."""

from __future__ import annotations

from typing import Any


class SalesforceError(Exception):
    """An error answered as ``[{"message": ..., "errorCode": ...}]`` with an HTTP status."""

    def __init__(self, status: int, error_code: str, message: str, fields: list[str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.error_code = error_code
        self.message = message
        self.fields = fields

    def body(self) -> list[dict[str, Any]]:
        item: dict[str, Any] = {"message": self.message, "errorCode": self.error_code}
        if self.fields is not None:
            item["fields"] = self.fields
        return [item]


class RecordError(Exception):
    """A per-record failure (collections use ``statusCode``; single-record calls turn it into a REST error)."""

    def __init__(
        self, status_code: str, message: str, fields: list[str] | None = None, http: int = 400
    ) -> None:
        super().__init__(message)
        self.status_code = status_code
        self.message = message
        self.fields = fields or []
        self.http = http

    def as_collection_error(self) -> dict[str, Any]:
        return {"statusCode": self.status_code, "message": self.message, "fields": self.fields}

    def as_rest_error(self) -> SalesforceError:
        return SalesforceError(self.http, self.status_code, self.message, self.fields)


class OAuthError(Exception):
    """A token-endpoint failure answered as ``{"error", "error_description"}``."""

    def __init__(self, error: str, description: str, status: int = 400) -> None:
        super().__init__(description)
        self.error = error
        self.description = description
        self.status = status


def malformed_query(message: str) -> SalesforceError:
    return SalesforceError(400, "MALFORMED_QUERY", message)


def not_found() -> SalesforceError:
    return SalesforceError(404, "NOT_FOUND", "The requested resource does not exist")
