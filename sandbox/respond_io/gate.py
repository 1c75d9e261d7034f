"""ASGI middleware in front of the API (``/v2``): auth, rate limits, faults, latency, headers, counters.

Order per request: bearer auth (401, no token taken) → token bucket (429 + ``Retry-After``) → added
latency → injected faults → handler. Every ``/v2`` response carries ``X-RateLimit-Limit`` and
``X-RateLimit-Remaining`` and is counted by endpoint key and status.
"""

from __future__ import annotations

import asyncio
import hmac
import logging
from typing import TYPE_CHECKING

from sandbox.respond_io.endpoints import API_PREFIX, endpoint_key
from sandbox.respond_io.errors import error_response

if TYPE_CHECKING:
    from starlette.types import ASGIApp, Message, Receive, Scope, Send

    from sandbox.respond_io.ratelimit import Decision
    from sandbox.respond_io.state import StandinState

__all__ = ["ApiGate"]

log = logging.getLogger(__name__)


def _bearer(scope: Scope) -> str | None:
    for name, value in scope["headers"]:
        if name == b"authorization":
            text = value.decode("latin-1")
            scheme, _, token = text.partition(" ")
            return token.strip() if scheme.lower() == "bearer" and token.strip() else None
    return None


class ApiGate:
    """Pure ASGI middleware (cheaper than ``BaseHTTPMiddleware``)."""

    def __init__(self, app: ASGIApp, state: StandinState) -> None:
        self.app = app
        self.state = state

    def _authorized(self, token: str | None) -> bool:
        if token is None:
            return False
        encoded = token.encode()
        # compare against every token so timing does not reveal which one is close
        return any([hmac.compare_digest(encoded, t.encode()) for t in self.state.tokens])

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if scope["type"] != "http" or not (path == API_PREFIX or path.startswith(API_PREFIX + "/")):
            await self.app(scope, receive, send)
            return
        state = self.state
        key = endpoint_key(scope["method"], path)

        if not self._authorized(_bearer(scope)):
            await self._reply(scope, receive, send, key, state.limiter.peek(key), 401)
            return
        decision = state.limiter.take(key)
        latency = state.faults.config.latency_ms
        if latency > 0:
            await asyncio.sleep(latency / 1000.0)
        if not decision.allowed:
            await self._reply(scope, receive, send, key, decision, 429, retry_after=decision.retry_after)
            return
        forced = state.faults.before(key)
        if forced is not None:
            await self._reply(scope, receive, send, key, decision, forced, retry_after=1)
            return
        after = state.faults.after(key)
        headers = [
            (b"x-ratelimit-limit", str(decision.limit).encode()),
            (b"x-ratelimit-remaining", str(decision.remaining).encode()),
        ]

        if after is not None:

            async def swallow(message: Message) -> None:
                return None

            await self.app(scope, receive, swallow)
            await self._reply(scope, receive, send, key, decision, after, retry_after=1)
            return

        started = False

        async def send_with_headers(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                message["headers"] = [*message.get("headers", []), *headers]
                state.count(key, message["status"])
            await send(message)

        try:
            await self.app(scope, receive, send_with_headers)
        except Exception:
            log.exception("unhandled error in %s", key)
            if started:
                raise
            await self._reply(scope, receive, send, key, decision, 500)

    async def _reply(
        self,
        scope: Scope,
        receive: Receive,
        send: Send,
        key: str,
        decision: Decision,
        status: int,
        *,
        retry_after: int | None = None,
    ) -> None:
        headers = {"X-RateLimit-Limit": str(decision.limit), "X-RateLimit-Remaining": str(decision.remaining)}
        if status in (429, 449, 503) and retry_after:
            headers["Retry-After"] = str(retry_after)
        self.state.count(key, status)
        await error_response(status, headers=headers)(scope, receive, send)
