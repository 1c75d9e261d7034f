"""Authentication: a bearer token for the API, a signed session cookie for the pages.

Airflow does not protect plugin apps, so the app does it itself. The API token is compared in constant time;
users log in with a password checked against a scrypt hash (:mod:`contact_sync_inbox.passwords`); the session is
a cookie signed with ``itsdangerous`` (HttpOnly, SameSite=Lax, Secure on HTTPS), valid for a fixed time.
"""

from __future__ import annotations

import hmac
import logging
import secrets
import threading
import time
from collections import defaultdict, deque
from typing import TYPE_CHECKING

from itsdangerous import BadSignature, URLSafeTimedSerializer

from contact_sync_inbox.passwords import DUMMY_HASH, verify_password

if TYPE_CHECKING:
    from starlette.requests import Request
    from starlette.responses import Response

    from contact_sync_inbox.config import InboxConfig

log = logging.getLogger(__name__)

COOKIE_NAME = "cs_inbox_session"
_SALT = "contact-sync-inbox-session"


class NotAuthenticated(Exception):
    """The request carries no valid credentials."""

    def __init__(self, message: str, *, page: bool) -> None:
        super().__init__(message)
        self.page = page


class ApiNotConfigured(Exception):
    """No API token is configured: the API refuses every request (fail closed)."""


class TooManyAttempts(Exception):
    """Too many failed logins for this user name in the last minute."""


def bearer_ok(config: InboxConfig, header: str | None) -> bool:
    """True when ``Authorization: Bearer <token>`` carries the configured token (constant-time compare).

    :raises ApiNotConfigured: when no token is configured.
    """
    if not config.api_token:
        raise ApiNotConfigured("the inbox API token is not configured")
    scheme, _, token = (header or "").partition(" ")
    if scheme.lower() != "bearer" or not token:
        return False
    return hmac.compare_digest(token.strip().encode("utf-8"), config.api_token.encode("utf-8"))


class Sessions:
    """Signs and checks session cookies; keeps a per-user count of failed logins."""

    def __init__(self, config: InboxConfig) -> None:
        secret = config.session_secret
        if not secret:
            secret = secrets.token_urlsafe(32)
            log.warning(
                "inbox: no session secret configured; using a random one (sessions end at restart and are not "
                "shared between workers). Set CONTACT_SYNC_INBOX_SESSION_SECRET."
            )
        self.config = config
        self.serializer = URLSafeTimedSerializer(secret, salt=_SALT)
        self._failures: dict[str, deque[float]] = defaultdict(deque)
        self._lock = threading.Lock()

    def user(self, request: Request) -> str | None:
        """The logged-in user of ``request``, or ``None``."""
        cookie = request.cookies.get(COOKIE_NAME)
        if not cookie or len(cookie) > 4096:
            return None
        try:
            data = self.serializer.loads(cookie, max_age=self.config.session_max_age_seconds)
        except BadSignature:
            return None
        name = data.get("u") if isinstance(data, dict) else None
        return name if isinstance(name, str) and name in self.config.users else None

    def check_password(self, username: str, password: str) -> bool:
        """Verify a login; an unknown user costs the same time as a wrong password.

        :raises TooManyAttempts: after ``login_attempts_per_minute`` failures for this name.
        """
        key = username[:64]
        now = time.monotonic()
        with self._lock:
            recent = self._failures[key]
            while recent and recent[0] < now - 60:
                recent.popleft()
            if len(recent) >= self.config.login_attempts_per_minute:
                raise TooManyAttempts("too many failed logins; wait a minute")
        stored = self.config.users.get(username)
        ok = verify_password(password, stored or DUMMY_HASH) and stored is not None
        if not ok:
            with self._lock:
                self._failures[key].append(now)
            log.info("inbox: failed login for a user name of %d characters", len(username))
        return ok

    def login(self, response: Response, request: Request, username: str) -> None:
        response.set_cookie(
            COOKIE_NAME,
            self.serializer.dumps({"u": username}),
            max_age=self.config.session_max_age_seconds,
            httponly=True,
            samesite="lax",
            secure=self._secure(request),
            path=_cookie_path(request),
        )

    def logout(self, response: Response, request: Request) -> None:
        response.delete_cookie(
            COOKIE_NAME,
            httponly=True,
            samesite="lax",
            secure=self._secure(request),
            path=_cookie_path(request),
        )

    def _secure(self, request: Request) -> bool:
        if self.config.cookie_secure == "auto":
            return request.url.scheme == "https"
        return self.config.cookie_secure == "true"


def _cookie_path(request: Request) -> str:
    """The app's own path (its mount prefix inside Airflow), so the cookie is not sent to other apps."""
    return (request.scope.get("root_path") or "").rstrip("/") + "/"
