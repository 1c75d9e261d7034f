"""Write-back intake: the sidebar's edit form and the respond.io webhook receiver. Both only enqueue.

=================================  ==========================================================================
``POST /sidebar/edit``             form ``sf_id, field, value, base, request_id, next`` (login): queue an edit
``POST /sidebar/discard``          form ``edit_id, next`` (login): discard a pending edit
``POST /webhooks/respond-io``      respond.io ``contact.updated`` events, ``X-Webhook-Signature`` checked
=================================  ==========================================================================

Rules (:mod:`contact_sync.writeback_rules`) are checked here and again when the edit is applied. The webhook's
signing key comes from ``app.state.webhook_signing_key``, ``CONTACT_SYNC_INBOX_WEBHOOK_SIGNING_KEY``,
``CONTACT_SYNC_INBOX_WEBHOOK_SIGNING_KEY_FILE`` or the password of the Airflow connection named by
``CONTACT_SYNC_INBOX_WEBHOOK_CONN_ID``; without one every webhook is refused (401).
"""

from __future__ import annotations

import json
import logging
import os
import threading
import time
import uuid
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from fastapi import Request  # noqa: TC002 - FastAPI reads the annotations at runtime
from fastapi.responses import HTMLResponse, JSONResponse, Response

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping, Sequence

    from fastapi import FastAPI
    from sqlalchemy.engine import Engine

    from contact_sync.settings import Settings
    from contact_sync.writeback_rules import EditRules
    from contact_sync_inbox.runtime import Runtime

log = logging.getLogger(__name__)

SIGNING_KEY_ENV = "CONTACT_SYNC_INBOX_WEBHOOK_SIGNING_KEY"
SIGNING_CONN_ENV = "CONTACT_SYNC_INBOX_WEBHOOK_CONN_ID"
MAX_BODY = 256 * 1024
MAX_VALUE = 4000
DESCRIBE_TTL_SECONDS = 600.0


class RulesUnavailable(RuntimeError):
    """The edit rules need Salesforce's describe, which could not be read (nothing was queued)."""


@cache
def _settings() -> Settings:
    from contact_sync.settings import load_settings

    return load_settings()


class _RulesCache:
    """The edit rules, from the describe cached in the state DB (or one describe call), kept 10 minutes."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._rules: EditRules | None = None
        self._at = 0.0

    def get(self, engine: Engine, salesforce_conn_id: str, state_db_conn_id: str) -> EditRules:
        from contact_sync.writeback_rules import EditRules

        with self._lock:
            if self._rules is None or time.monotonic() - self._at > DESCRIBE_TTL_SECONDS:
                describe = _cached_describe(engine) or _describe_from_salesforce(
                    salesforce_conn_id, state_db_conn_id
                )
                settings = _settings()
                self._rules = EditRules.from_describe(
                    settings.editable_fields, describe, extra_keys=[settings.salesforce_id_field]
                )
                self._at = time.monotonic()
            return self._rules


def _cached_describe(engine: Engine) -> dict[str, Any] | None:
    from sqlalchemy import select

    from contact_sync.state.schema import salesforce_describe_cache as table

    with engine.connect() as connection:
        row = connection.execute(
            select(table.c.body)
            .where(table.c.sobject == "Contact")
            .order_by(table.c.fetched_at.desc())
            .limit(1)
        ).first()
    return dict(row.body) if row else None


def _describe_from_salesforce(salesforce_conn_id: str, state_db_conn_id: str) -> dict[str, Any]:
    from contact_sync_inbox.refresh import ensure_plugins_importable

    ensure_plugins_importable()
    from hooks.salesforce import SalesforceContactsHook

    hook = SalesforceContactsHook(salesforce_conn_id, consumer="writeback", state_db_conn_id=state_db_conn_id)
    return hook.describe("Contact")


def signing_key(app: FastAPI) -> str | None:
    """The webhook signing key (never logged)."""
    key = getattr(app.state, "webhook_signing_key", None) or os.environ.get(SIGNING_KEY_ENV)
    if not key and os.environ.get(SIGNING_KEY_ENV + "_FILE"):
        key = Path(os.environ[SIGNING_KEY_ENV + "_FILE"]).read_text().strip()
    if not key and os.environ.get(SIGNING_CONN_ENV):
        from airflow.sdk import BaseHook

        key = BaseHook.get_connection(os.environ[SIGNING_CONN_ENV]).password
    return key or None


def _workspace(rt: Runtime) -> str:
    return rt.config.workspace or _settings().workspaces[0]


def _slugs() -> dict[str, str]:
    """respond.io custom field slug -> Salesforce field, for the editable fields (same slugs as the mirror)."""
    from contact_sync_inbox.refresh import ensure_plugins_importable

    ensure_plugins_importable()
    from operators.lookup_refresh import mirror_slug

    settings = _settings()
    return {mirror_slug(settings.mirror_field_prefix, f): f for f in settings.editable_fields}


def sidebar_context(rt: Runtime, rules_cache: _RulesCache, sf_ids: Sequence[str]) -> dict[str, Any]:
    """What the sidebar needs for its edit forms: editable fields, current values, pending edits per contact."""
    from contact_sync.state import sync_store, writeback_store

    if not sf_ids:
        return {"fields": (), "values": {}, "pending": {}, "error": None}
    try:
        rules = rules_cache.get(rt.engine, rt.config.salesforce_conn_id, rt.config.state_db_conn_id)
    except Exception as err:  # noqa: BLE001 - the sidebar still shows the lookup without the edit form
        log.warning("inbox: edit form unavailable (%s)", type(err).__name__)
        return {"fields": (), "values": {}, "pending": {}, "error": "editing is unavailable right now"}
    values = {
        row["sf_id"]: dict(row["fields"] or {}) for row in sync_store.lookup_rows(rt.engine, list(sf_ids))
    }
    pending: dict[str, list[dict[str, Any]]] = {}
    for edit in writeback_store.edits(rt.engine, status="pending", sf_ids=list(sf_ids), limit=200):
        pending.setdefault(edit["sf_id"], []).append(edit)
    return {
        "fields": rules.editable_fields(),
        "values": values,
        "pending": pending,
        "error": None,
        "new_request_id": lambda: uuid.uuid4().hex,
    }


def register(
    app: FastAPI, runtime: Callable[[], Runtime], require_user: Callable[[Request], Any]
) -> _RulesCache:
    """Add the write-back routes to ``app``; returns the rules cache the sidebar shares."""
    from contact_sync.writeback_rules import EditRefused

    rules_cache = _RulesCache()
    app.state.writeback_rules = rules_cache

    @app.exception_handler(RulesUnavailable)
    async def rules_unavailable(request: Request, exc: RulesUnavailable) -> Response:
        return _answer(request, 503, "unavailable", "editing is unavailable right now (Salesforce describe)")

    def rules(rt: Runtime) -> EditRules:
        try:
            return rules_cache.get(rt.engine, rt.config.salesforce_conn_id, rt.config.state_db_conn_id)
        except Exception as err:
            log.warning("inbox: Salesforce describe unavailable for edits (%s)", type(err).__name__)
            raise RulesUnavailable from err

    @app.post("/sidebar/edit", name="writeback_edit")
    async def edit(request: Request) -> Response:
        from starlette.concurrency import run_in_threadpool

        from contact_sync.state import writeback_store

        rt, user = require_user(request)
        form = await request.form(max_files=0, max_fields=10)
        data = {
            k: str(form.get(k) or "")[: MAX_VALUE + 1]
            for k in ("sf_id", "field", "value", "base", "request_id")
        }
        if not data["sf_id"] or not data["field"] or len(data["sf_id"]) > 18 or len(data["field"]) > 80:
            return _answer(request, 400, "bad_request", "sf_id and field are required")
        if len(data["value"]) > MAX_VALUE:
            return _answer(request, 422, "value_too_long", f"values are limited to {MAX_VALUE} characters")
        try:
            value = rules(rt).check(data["field"], data["value"])
        except EditRefused as err:
            return _answer(request, 422, err.code, str(err))
        request_id = "inbox:" + (data["request_id"][:150] or uuid.uuid4().hex)
        edit_row = {
            "request_id": request_id,
            "workspace": _workspace(rt),
            "sf_id": data["sf_id"],
            "field": data["field"],
            "new_value": value,
            "base_value": data["base"] or None,
            "source": "inbox",
            "requested_by": user,
        }
        stored = (await run_in_threadpool(writeback_store.enqueue, rt.engine, [edit_row]))[0]
        log.info("inbox: edit #%s of %s queued", stored["id"], data["field"])
        status = 202 if stored["created"] else 200
        return _answer(
            request,
            status,
            "queued" if stored["created"] else "already_queued",
            f"{data['field']} will be set to {value!r} in Salesforce within a minute",
            edit_id=stored["id"],
        )

    @app.post("/sidebar/discard", name="writeback_discard")
    async def discard(request: Request) -> Response:
        from contact_sync.state import writeback_store

        rt, _user = require_user(request)
        form = await request.form(max_files=0, max_fields=5)
        try:
            edit_id = int(str(form.get("edit_id") or ""))
        except ValueError:
            return _answer(request, 400, "bad_request", "edit_id must be a number")
        if not writeback_store.discard(rt.engine, edit_id, workspace=_workspace(rt)):
            return _answer(request, 409, "not_pending", "this edit is no longer pending")
        return _answer(request, 200, "discarded", "the edit was discarded; Salesforce keeps its value")

    @app.post("/webhooks/respond-io", name="respond_io_webhook")
    async def webhook(request: Request) -> Response:
        from starlette.concurrency import run_in_threadpool

        from contact_sync.webhook_signature import SIGNATURE_HEADER, verify

        rt = runtime()
        body = await request.body()
        key = signing_key(app)
        if (
            key is None
            or len(body) > MAX_BODY
            or not verify(key, body, request.headers.get(SIGNATURE_HEADER))
        ):
            log.warning("inbox: webhook refused (bad or missing signature)")
            return JSONResponse(
                {"error": "unauthorized", "message": "bad webhook signature"}, status_code=401
            )
        try:
            payload = json.loads(body)
            if not isinstance(payload, dict):
                raise TypeError("not an object")
        except (ValueError, TypeError):
            return JSONResponse(
                {"error": "bad_request", "message": "body is not a JSON object"}, status_code=400
            )
        workspace = request.query_params.get("workspace") or _workspace(rt)
        result = await run_in_threadpool(webhook_edits, rt.engine, rules(rt), payload, workspace)
        return JSONResponse(result)

    return rules_cache


def webhook_edits(
    engine: Engine, rules: EditRules, payload: Mapping[str, Any], workspace: str
) -> dict[str, Any]:
    """Turn one ``contact.updated`` event into queued edits; echoes and replays store nothing new."""
    from contact_sync.state import sync_store, writeback_store
    from contact_sync.writeback_rules import EditRefused, as_text

    if payload.get("event_type") != "contact.updated":
        return {"stored": 0, "ignored": "event_type"}
    event_id = str(payload.get("event_id") or "")[:100]
    contact = payload.get("contact") or {}
    changes = ((payload.get("changes") or {}).get("custom_fields")) or {}
    id_slug = _settings().salesforce_id_field
    custom = {
        c.get("name"): c.get("value") for c in contact.get("custom_fields") or () if isinstance(c, dict)
    }
    sf_id = as_text(custom.get(id_slug))
    slugs = _slugs()
    mapped = {slug: change for slug, change in changes.items() if slug in slugs and isinstance(change, dict)}
    if not event_id or not sf_id or not mapped:
        return {"stored": 0, "ignored": "no mapped field"}
    ledger = sync_store.ledger_for(engine, workspace, [sf_id])
    if not ledger:
        return {"stored": 0, "ignored": "contact not synced"}
    written = dict((ledger[0]["written_fields"] or {}).get("mirror") or {})
    lookup = sync_store.lookup_rows(engine, [sf_id])
    in_salesforce = dict(lookup[0]["fields"] or {}) if lookup else {}
    edits, echoes, refused = [], [], []
    for slug, change in mapped.items():
        field, new = slugs[slug], as_text(change.get("new"))
        if new == written.get(slug) or (field in in_salesforce and as_text(in_salesforce[field]) == new):
            echoes.append(field)  # what we wrote ourselves, or what Salesforce already holds
            continue
        try:
            value = rules.check(field, new)
        except EditRefused as err:
            refused.append({"field": field, "code": err.code, "message": str(err)})
            continue
        edits.append(
            {
                "request_id": f"webhook:{event_id}:{field}",
                "workspace": workspace,
                "sf_id": sf_id,
                "field": field,
                "new_value": value,
                "base_value": written.get(slug),
                "source": "webhook",
                "requested_by": f"respond.io:{as_text(contact.get('assignee')) or 'inbox'}"[:100],
            }
        )
    stored = writeback_store.enqueue(engine, edits)
    created = sum(1 for s in stored if s["created"])
    if refused:
        log.warning("inbox: webhook edits refused: %s", [r["code"] for r in refused])
    return {"stored": created, "replayed": len(stored) - created, "echoes": echoes, "refused": refused}


def _answer(request: Request, status: int, code: str, message: str, **extra: Any) -> Response:
    """JSON for API clients (``Accept: application/json``), else back to the sidebar page with a notice."""
    if "application/json" in request.headers.get("accept", ""):
        return JSONResponse({"status": code, "message": message, **extra}, status_code=status)
    from html import escape

    back = str(request.url_for("sidebar"))
    return HTMLResponse(
        f'<!doctype html><meta charset="utf-8"><title>Edit</title><p id="edit-status" data-status="{escape(code)}">'
        f'{escape(message)}</p><p><a href="{escape(back)}">Back to the sidebar</a></p>',
        status_code=status,
    )
