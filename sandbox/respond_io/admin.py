"""Admin routes under ``/__admin`` (no auth, no rate limits): inspect and steer the stand-in."""

from __future__ import annotations

import json
import time
from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, Request
from starlette.responses import JSONResponse

from sandbox.respond_io.errors import not_found, validation_error
from sandbox.respond_io.faults import Burst
from sandbox.respond_io.store import has_changes
from sandbox.respond_io.validation import parse_contact_fields, parse_custom_field_definition, parse_tag_list

if TYPE_CHECKING:
    from sandbox.respond_io.state import StandinState

__all__ = ["router"]

router = APIRouter()


def _state(request: Request) -> StandinState:
    return request.app.state.standin


async def _body(request: Request) -> Any:
    raw = await request.body()
    if not raw.strip():
        return {}
    try:
        return json.loads(raw)
    except ValueError:
        raise validation_error("body", "body is not valid JSON") from None


async def _object(request: Request) -> dict[str, Any]:
    body = await _body(request)
    if not isinstance(body, dict):
        raise validation_error("body", "body must be a JSON object")
    return body


@router.get("/health")
async def health() -> JSONResponse:
    return JSONResponse({"status": "ok"})


@router.post("/reset")
async def reset(request: Request) -> JSONResponse:
    """Wipe contacts, tags, custom fields, counters, buckets, bursts and deliveries.

    Body ``{"config": true}`` also restores the start-up configuration (limits, faults, webhook, delay).
    """
    body = await _object(request)
    _state(request).reset(config=bool(body.get("config")))
    return JSONResponse({"status": "reset", "config": bool(body.get("config"))})


@router.get("/config")
async def config(request: Request) -> JSONResponse:
    state = _state(request)
    cfg = state.config
    return JSONResponse(
        {
            "tokens": len(state.tokens),
            "rate_limit": state.limiter.snapshot(),
            "create_delay": cfg.create_delay,
            "email_case_sensitive": state.store.email_case_sensitive,
            "strict_tags": cfg.strict_tags,
            "faults": state.faults.snapshot(),
            "webhook": state.webhooks.config.public(),
        }
    )


# -- data -------------------------------------------------------------------------------------------
@router.post("/contacts")
async def seed_contacts(request: Request) -> JSONResponse:
    """Seed contacts that already exist (no create window, no rate limit, no webhooks).

    Body: a list of contacts (or ``{"contacts": [...]}``) with ContactFields plus optional ``tags``,
    ``custom_fields`` (list of ``{name, value}`` or a ``{slug: value}`` object; unknown slugs become text
    fields), ``created_at``, ``status``, ``lifecycle``, ``assignee``.
    """
    state = _state(request)
    body = await _body(request)
    items = body.get("contacts") if isinstance(body, dict) else body
    if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
        raise validation_error("contacts", "send a list of contact objects")
    contacts = [state.store.seed(item) for item in items]
    return JSONResponse({"ids": [c.id for c in contacts], "contacts": [c.to_json() for c in contacts]})


@router.get("/contacts")
async def list_contacts(request: Request) -> JSONResponse:
    """Every contact (including those still in their create window, listed in ``pending_ids``)."""
    store = _state(request).store
    now = time.monotonic()
    contacts = sorted(store.contacts.values(), key=lambda c: c.id)
    return JSONResponse(
        {
            "contacts": [c.to_json() for c in contacts],
            "pending_ids": [c.id for c in contacts if c.pending(now)],
        }
    )


@router.get("/tags")
async def list_tags(request: Request) -> JSONResponse:
    return JSONResponse({"tags": sorted(_state(request).store.tags.values(), key=lambda t: t["id"])})


@router.get("/custom_fields")
async def list_custom_fields(request: Request) -> JSONResponse:
    fields = sorted(_state(request).store.custom_fields.values(), key=lambda f: f["id"])
    return JSONResponse({"custom_fields": fields})


@router.post("/custom_fields")
async def seed_custom_fields(request: Request) -> JSONResponse:
    """Define custom fields (a list or one object shaped like ``POST /space/custom_field``)."""
    state = _state(request)
    body = await _body(request)
    items = body if isinstance(body, list) else [body]
    created = [state.store.add_custom_field(parse_custom_field_definition(item)) for item in items]
    return JSONResponse({"custom_fields": created})


@router.get("/counters")
async def counters(request: Request) -> JSONResponse:
    """API calls by endpoint key and status code (401s and 429s included)."""
    return JSONResponse(_state(request).counters_json())


# -- behaviour ---------------------------------------------------------------------------------------
@router.get("/rate_limit")
async def get_rate_limit(request: Request) -> JSONResponse:
    return JSONResponse(_state(request).limiter.snapshot())


@router.put("/rate_limit")
async def put_rate_limit(request: Request) -> JSONResponse:
    """Body: ``{"default": 5, "endpoints": {"POST /contact/list": 2, "GET /space/user": null}}``."""
    body = await _object(request)
    default = body.get("default")
    endpoints = body.get("endpoints") or {}
    if default is not None and (not isinstance(default, (int, float)) or default <= 0):
        raise validation_error("default", "default must be a positive number")
    if not isinstance(endpoints, dict) or not all(
        v is None or (isinstance(v, (int, float)) and v > 0) for v in endpoints.values()
    ):
        raise validation_error("endpoints", "endpoints maps endpoint keys to positive numbers or null")
    limiter = _state(request).limiter
    limiter.configure(default=default, endpoints=endpoints)
    return JSONResponse(limiter.snapshot())


@router.get("/faults")
async def get_faults(request: Request) -> JSONResponse:
    return JSONResponse(_state(request).faults.snapshot())


@router.put("/faults")
async def put_faults(request: Request) -> JSONResponse:
    """Set any of ``latency_ms``, ``error_rate``, ``error_statuses``, ``pending_449_rate``, and ``bursts``."""
    faults = _state(request).faults
    body = await _object(request)
    for name in ("error_rate", "pending_449_rate"):
        if name in body and not (isinstance(body[name], (int, float)) and 0 <= body[name] <= 1):
            raise validation_error(name, f"{name} must be between 0 and 1")
    faults.update(**{k: v for k, v in body.items() if k != "bursts"})
    for burst in body.get("bursts") or []:
        faults.add_burst(_burst(burst))
    return JSONResponse(faults.snapshot())


def _burst(body: Any) -> Burst:
    if not isinstance(body, dict):
        raise validation_error("bursts", "a burst is an object")
    status, count = body.get("status"), body.get("count", 1)
    if not isinstance(status, int) or not 400 <= status <= 599:
        raise validation_error("status", "status must be an HTTP error status, e.g. 503, 429, 449")
    if not isinstance(count, int) or count < 1:
        raise validation_error("count", "count must be a positive integer")
    phase = body.get("phase", "before")
    if phase not in ("before", "after"):
        raise validation_error("phase", "phase must be before or after")
    return Burst(status=status, count=count, endpoint=body.get("endpoint"), phase=phase)


@router.post("/faults/burst")
async def add_burst(request: Request) -> JSONResponse:
    """``{"status": 503, "count": 3, "endpoint": "POST /contact/{identifier}/tag", "phase": "before"}``."""
    faults = _state(request).faults
    faults.add_burst(_burst(await _object(request)))
    return JSONResponse(faults.snapshot())


@router.delete("/faults")
async def clear_faults(request: Request) -> JSONResponse:
    faults = _state(request).faults
    faults.clear()
    return JSONResponse(faults.snapshot())


@router.get("/create_delay")
async def get_create_delay(request: Request) -> JSONResponse:
    return JSONResponse({"seconds": _state(request).config.create_delay})


@router.put("/create_delay")
async def put_create_delay(request: Request) -> JSONResponse:
    body = await _object(request)
    seconds = body.get("seconds")
    if not isinstance(seconds, (int, float)) or seconds < 0:
        raise validation_error("seconds", "seconds must be a number >= 0")
    _state(request).config.create_delay = float(seconds)
    return JSONResponse({"seconds": float(seconds)})


@router.get("/webhook")
async def get_webhook(request: Request) -> JSONResponse:
    return JSONResponse(_state(request).webhooks.config.public())


@router.put("/webhook")
async def put_webhook(request: Request) -> JSONResponse:
    """Any of ``url`` (``null`` = off), ``secret``, ``api_writes``, ``max_attempts``, ``retry_backoff``,
    ``timeout``."""
    cfg = _state(request).webhooks.config
    body = await _object(request)
    if "url" in body:
        cfg.url = body["url"] or None
    if "secret" in body:
        cfg.secret = body["secret"] or None
    if "api_writes" in body:
        cfg.api_writes = bool(body["api_writes"])
    for name, kind in (("max_attempts", int), ("retry_backoff", float), ("timeout", float)):
        if body.get(name) is not None:
            setattr(cfg, name, kind(body[name]))
    return JSONResponse(cfg.public())


@router.get("/webhook/deliveries")
@router.get("/deliveries")
async def deliveries(request: Request) -> JSONResponse:
    """Every event produced since the last reset, with delivery status and attempts; ``pending`` = queued."""
    hooks = _state(request).webhooks
    return JSONResponse({"deliveries": hooks.deliveries, "pending": hooks.pending})


@router.post("/inbox_edit/{contact_id}")
async def inbox_edit(contact_id: int, request: Request) -> JSONResponse:
    """Play an inbox user editing a contact; fires ``contact.updated`` / ``contact.tag.updated`` webhooks.

    Body: ``{"fields": {"firstName": ...}, "custom_fields": [{"name", "value"}] | {slug: value},
    "tags_add": [...], "tags_remove": [...]}``.
    """
    state = _state(request)
    contact = state.store.contacts.get(contact_id)
    if contact is None:
        raise not_found()
    body = await _object(request)
    custom = body.get("custom_fields") or []
    if isinstance(custom, dict):
        custom = [{"name": k, "value": v} for k, v in custom.items()]
    update = parse_contact_fields(
        {**(body.get("fields") or {}), "custom_fields": custom}, require_first_name=False
    )
    changes = state.store.update(contact, update)
    event_ids: list[str | None] = []
    if has_changes(changes):
        event_ids.append(state.webhooks.emit("contact.updated", contact.to_json(), "inbox", changes=changes))
    for key, action in (("tags_add", "add"), ("tags_remove", "remove")):
        if body.get(key):
            tags = parse_tag_list(body[key])
            done = (
                state.store.add_tags(contact, tags, strict=False)
                if action == "add"
                else state.store.remove_tags(contact, tags)
            )
            for tag in done:
                event_ids.append(
                    state.webhooks.emit(
                        "contact.tag.updated", contact.to_json(), "inbox", tag=tag, action=action
                    )
                )
    return JSONResponse(
        {"contactId": contact.id, "changes": changes, "event_ids": [e for e in event_ids if e is not None]}
    )
