"""Outgoing webhooks: signed ``contact.*`` events delivered from a background task, with retries.

Signature (as respond.io integrators verify it): header ``X-Webhook-Signature`` =
``base64(HMAC-SHA256(key=signing key, msg=raw request body))``.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import hmac
import json
import logging
import uuid
from dataclasses import dataclass
from typing import Any, Literal

import httpx

__all__ = ["SIGNATURE_HEADER", "WebhookConfig", "WebhookDispatcher", "sign", "verify"]

log = logging.getLogger(__name__)

SIGNATURE_HEADER = "X-Webhook-Signature"
Source = Literal["api", "inbox"]


def sign(secret: str, body: bytes) -> str:
    """``base64(HMAC-SHA256(secret, body))``."""
    digest = hmac.new(secret.encode(), body, hashlib.sha256).digest()
    return base64.b64encode(digest).decode("ascii")


def verify(secret: str, body: bytes, signature: str | None) -> bool:
    """Constant-time check of an ``X-Webhook-Signature`` header over the raw body."""
    return signature is not None and hmac.compare_digest(sign(secret, body), signature)


@dataclass
class WebhookConfig:
    """Where and how events go.

    :param url: receiver URL; no events are produced while it is ``None``.
    :param secret: signing key; without it the signature header is omitted.
    :param api_writes: also fire for changes made through the API (not only inbox edits).
    :param max_attempts: delivery attempts per event (non-2xx or network error → retry).
    :param retry_backoff: seconds before the 2nd attempt, doubled for each further one.
    :param timeout: seconds per delivery attempt.
    """

    url: str | None = None
    secret: str | None = None
    api_writes: bool = True
    max_attempts: int = 3
    retry_backoff: float = 0.2
    timeout: float = 5.0

    def public(self) -> dict[str, Any]:
        """The configuration without the secret."""
        return {
            "url": self.url,
            "secret_set": bool(self.secret),
            "api_writes": self.api_writes,
            "max_attempts": self.max_attempts,
            "retry_backoff": self.retry_backoff,
            "timeout": self.timeout,
        }


class WebhookDispatcher:
    """Queues events and delivers them in order from one background task."""

    def __init__(self, config: WebhookConfig) -> None:
        self.config = config
        self.deliveries: list[dict[str, Any]] = []
        self._queue: asyncio.Queue[tuple[int, dict[str, Any], bytes, str | None]] = asyncio.Queue()
        self._generation = 0
        self._busy = 0
        self._client: httpx.AsyncClient | None = None
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self._client = httpx.AsyncClient(trust_env=False)
        self._task = asyncio.create_task(self._worker(), name="webhook-delivery")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if self._client is not None:
            await self._client.aclose()

    @property
    def pending(self) -> int:
        return self._queue.qsize() + self._busy

    def reset(self) -> None:
        """Forget deliveries and drop queued events."""
        self._generation += 1
        self.deliveries.clear()
        while not self._queue.empty():
            self._queue.get_nowait()

    def emit(self, event_type: str, contact: dict[str, Any], source: Source, **extra: Any) -> str | None:
        """Queue an event; returns its id, or ``None`` when webhooks are off for this source."""
        cfg = self.config
        if not cfg.url or (source == "api" and not cfg.api_writes):
            return None
        event_id = str(uuid.uuid4())
        payload = {"event_type": event_type, "event_id": event_id, "contact": contact, **extra}
        body = json.dumps(payload, separators=(",", ":")).encode()
        record: dict[str, Any] = {
            "event_id": event_id,
            "event_type": event_type,
            "contact_id": contact.get("id"),
            "source": source,
            "url": cfg.url,
            "status_code": None,
            "attempts": 0,
            "delivered": False,
            "error": None,
            "payload": payload,
        }
        self.deliveries.append(record)
        signature = sign(cfg.secret, body) if cfg.secret else None
        self._queue.put_nowait((self._generation, record, body, signature))
        return event_id

    async def _worker(self) -> None:
        while True:
            generation, record, body, signature = await self._queue.get()
            if generation != self._generation:
                continue
            self._busy = 1
            try:
                await self._deliver(record, body, signature)
            except Exception:  # noqa: BLE001 - a delivery bug must not kill the worker
                log.exception("webhook delivery %s failed unexpectedly", record["event_id"])
            finally:
                self._busy = 0

    async def _deliver(self, record: dict[str, Any], body: bytes, signature: str | None) -> None:
        assert self._client is not None
        headers = {"Content-Type": "application/json"}
        if signature:
            headers[SIGNATURE_HEADER] = signature
        cfg = self.config
        for attempt in range(1, max(1, cfg.max_attempts) + 1):
            record["attempts"] = attempt
            try:
                response = await self._client.post(
                    record["url"], content=body, headers=headers, timeout=cfg.timeout
                )
                record["status_code"] = response.status_code
                record["error"] = None
                if 200 <= response.status_code < 300:
                    record["delivered"] = True
                    return
            except httpx.HTTPError as exc:
                record["error"] = type(exc).__name__
            if attempt < cfg.max_attempts:
                await asyncio.sleep(cfg.retry_backoff * 2 ** (attempt - 1))
        log.warning("webhook %s not delivered after %s attempts", record["event_id"], record["attempts"])
