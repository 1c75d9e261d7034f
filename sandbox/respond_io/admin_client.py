"""A small client for the stand-in's ``/__admin`` routes (used by tests, the demo and benchmarks)."""

from __future__ import annotations

from typing import Any

import requests

__all__ = ["RespondIoAdmin", "calls_between"]


def calls_between(before: dict[str, Any], after: dict[str, Any]) -> dict[str, dict[str, int]]:
    """API calls made between two :meth:`RespondIoAdmin.counters` snapshots: ``{endpoint key: {status: n}}``."""
    calls: dict[str, dict[str, int]] = {}
    for key, statuses in after["by_endpoint"].items():
        old = before["by_endpoint"].get(key, {})
        diff = {str(s): n - old.get(s, 0) for s, n in statuses.items() if n - old.get(s, 0)}
        if diff:
            calls[key] = diff
    return calls


class RespondIoAdmin:
    """Calls ``/__admin/*`` of a running respond.io stand-in.

    :param admin_url: e.g. ``http://127.0.0.1:8081/__admin``.
    :param session: optional session to reuse (``trust_env`` should be off for 127.0.0.1).
    """

    def __init__(
        self, admin_url: str, *, session: requests.Session | None = None, timeout: float = 10.0
    ) -> None:
        self.admin_url = admin_url.rstrip("/")
        self.timeout = timeout
        if session is None:
            session = requests.Session()
            session.trust_env = False
        self._session = session

    def _call(self, method: str, path: str, body: Any = None) -> Any:
        response = self._session.request(
            method, f"{self.admin_url}/{path.lstrip('/')}", json=body, timeout=self.timeout
        )
        if response.status_code >= 400:
            raise RuntimeError(f"admin {method} {path} -> {response.status_code}: {response.text[:300]}")
        return response.json()

    # -- state ------------------------------------------------------------------------------------
    def health(self) -> bool:
        return bool(self._call("GET", "health").get("status") == "ok")

    def reset(self, *, config: bool = False) -> None:
        """Wipe all data (and with ``config=True`` restore the start-up configuration)."""
        self._call("POST", "reset", {"config": config})

    def seed_contacts(self, contacts: list[dict[str, Any]]) -> list[int]:
        """Create existing contacts directly (no create delay, no rate limit); returns their ids."""
        return list(self._call("POST", "contacts", contacts)["ids"])

    def contacts(self) -> list[dict[str, Any]]:
        """Every contact (full objects incl. tags and custom fields), pending ones included."""
        return list(self._call("GET", "contacts")["contacts"])

    def contact(self, contact_id: int) -> dict[str, Any] | None:
        return next((c for c in self.contacts() if c["id"] == contact_id), None)

    def tags(self) -> list[dict[str, Any]]:
        return list(self._call("GET", "tags")["tags"])

    def custom_fields(self) -> list[dict[str, Any]]:
        return list(self._call("GET", "custom_fields")["custom_fields"])

    def define_custom_fields(self, fields: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Define custom fields (``{"name", "slug", "dataType", ...}``)."""
        return list(self._call("POST", "custom_fields", fields)["custom_fields"])

    def counters(self) -> dict[str, Any]:
        """``{"by_endpoint": {key: {status: n}}, "by_status": {status: n}, "total": n}``."""
        return dict(self._call("GET", "counters"))

    def config(self) -> dict[str, Any]:
        return dict(self._call("GET", "config"))

    # -- behaviour ---------------------------------------------------------------------------------
    def set_rate_limit(
        self, default: float | None = None, endpoints: dict[str, float | None] | None = None
    ) -> dict[str, Any]:
        """Change the default per-endpoint rate and/or per-endpoint overrides (``None`` drops one)."""
        return dict(self._call("PUT", "rate_limit", {"default": default, "endpoints": endpoints or {}}))

    def set_faults(self, **faults: Any) -> dict[str, Any]:
        """Any of ``latency_ms``, ``error_rate``, ``error_statuses``, ``pending_449_rate``, ``bursts``."""
        return dict(self._call("PUT", "faults", faults))

    def add_burst(
        self, status: int, count: int = 1, *, endpoint: str | None = None, phase: str = "before"
    ) -> dict[str, Any]:
        """The next ``count`` calls (to ``endpoint``, or any) answer ``status``.

        ``phase="after"`` runs the handler first (the write happens) and then replaces the response.
        """
        body = {"status": status, "count": count, "endpoint": endpoint, "phase": phase}
        return dict(self._call("POST", "faults/burst", body))

    def clear_faults(self) -> dict[str, Any]:
        return dict(self._call("DELETE", "faults"))

    def set_create_delay(self, seconds: float) -> None:
        self._call("PUT", "create_delay", {"seconds": seconds})

    def set_webhook(
        self, url: str | None, secret: str | None = None, *, api_writes: bool = True, **options: Any
    ) -> dict[str, Any]:
        """Point webhooks at ``url`` signed with ``secret`` (``url=None`` switches them off)."""
        body = {"url": url, "secret": secret, "api_writes": api_writes, **options}
        return dict(self._call("PUT", "webhook", body))

    def deliveries(self) -> list[dict[str, Any]]:
        """Events produced: ``event_id``, ``event_type``, ``status_code``, ``attempts``, ``delivered``, …"""
        return list(self._call("GET", "webhook/deliveries")["deliveries"])

    def pending_deliveries(self) -> int:
        return int(self._call("GET", "webhook/deliveries")["pending"])

    def inbox_edit(
        self,
        contact_id: int,
        fields: dict[str, Any] | None = None,
        custom_fields: dict[str, Any] | list[dict[str, Any]] | None = None,
        *,
        tags_add: list[str] | None = None,
        tags_remove: list[str] | None = None,
    ) -> dict[str, Any]:
        """Edit a contact as an inbox user would (fires ``contact.updated``)."""
        body: dict[str, Any] = {"fields": fields or {}, "custom_fields": custom_fields or []}
        if tags_add:
            body["tags_add"] = tags_add
        if tags_remove:
            body["tags_remove"] = tags_remove
        return dict(self._call("POST", f"inbox_edit/{contact_id}", body))
