"""
Cursor pagination of respond.io list endpoints (``POST /contact/list``, ``GET /space/...``).

A page answers ``{"items": [...], "pagination": {"next": "<url with cursorId=...>", "previous": ...}}``.
Only the ``cursorId`` is taken from ``next`` (its host and path are not reliable); no ``next`` means the
last page. A cursor seen before raises instead of looping forever.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlsplit

from hooks.respond_io_errors import RespondIoPaginationError

__all__ = ["CursorPaginator"]


class CursorPaginator:
    """Tracks the ``cursorId`` between pages.

    Usage::

        paginator = CursorPaginator()
        while paginator.has_more:
            body = fetch(cursor=paginator.cursor)
            yield from body["items"]
            paginator.get_next(body)

    :param endpoint: endpoint key, for error messages.
    """

    def __init__(self, endpoint: str = "") -> None:
        self.endpoint = endpoint
        self.cursor: str | None = None
        self.has_more = True
        self.pages = 0
        self._seen: set[str] = set()

    @staticmethod
    def cursor_from(body: Any) -> str | None:
        """The ``cursorId`` of a page's ``pagination.next`` link, ``None`` on the last page."""
        if not isinstance(body, dict):
            return None
        pagination = body.get("pagination")
        link = pagination.get("next") if isinstance(pagination, dict) else None
        if not link or not isinstance(link, str):
            return None
        values = parse_qs(urlsplit(link).query).get("cursorId")
        return values[0] if values and values[0] else None

    def get_next(self, body: Any) -> str | None:
        """Advance past ``body`` (a page); return the next cursor, or ``None`` when done.

        :raises RespondIoPaginationError: the page's cursor was already followed, or a page says there is
            more but carries no cursor.
        """
        self.pages += 1
        cursor = self.cursor_from(body)
        if cursor is None:
            pagination = body.get("pagination") if isinstance(body, dict) else None
            if isinstance(pagination, dict) and pagination.get("next"):
                raise RespondIoPaginationError(None, "next page link has no cursorId", endpoint=self.endpoint)
            self.has_more = False
            self.cursor = None
            return None
        if cursor in self._seen:
            raise RespondIoPaginationError(
                None, f"cursor repeated after {self.pages} pages; refusing to loop", endpoint=self.endpoint
            )
        self._seen.add(cursor)
        self.cursor = cursor
        return cursor
