"""The v2 API routes (mounted under ``/v2``); auth, limits and faults are handled by :mod:`.gate`."""

from __future__ import annotations

import bisect
import json
from operator import attrgetter, itemgetter
from typing import TYPE_CHECKING, Any, TypeVar

from fastapi import APIRouter, Request
from starlette.responses import JSONResponse

from sandbox.respond_io.errors import ApiError, not_found, validation_error
from sandbox.respond_io.filters import compile_filter, compile_search
from sandbox.respond_io.identifiers import IdentifierError, parse_identifier
from sandbox.respond_io.store import has_changes
from sandbox.respond_io.validation import (
    parse_contact_fields,
    parse_custom_field_definition,
    parse_tag_list,
)

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from sandbox.respond_io.identifiers import Identifier
    from sandbox.respond_io.state import StandinState
    from sandbox.respond_io.store import Changes, Contact

__all__ = ["router"]

router = APIRouter()
T = TypeVar("T")

_USERS = [
    {
        "id": 1,
        "firstName": "Stand",
        "lastName": "In",
        "email": "owner@standin.invalid",
        "role": "owner",
        "team": None,
        "restrictions": [],
    }
]


def _state(request: Request) -> StandinState:
    return request.app.state.standin


async def _json(request: Request) -> Any:
    raw = await request.body()
    if not raw.strip():
        return None
    try:
        return json.loads(raw)
    except ValueError:
        raise validation_error("body", "body is not valid JSON") from None


def _ident(raw: str) -> Identifier:
    try:
        return parse_identifier(raw)
    except IdentifierError as exc:
        raise validation_error("identifier", str(exc)) from None


def _contact_id(contact: Contact) -> JSONResponse:
    return JSONResponse({"contactId": contact.id})


def _int_param(request: Request, name: str, default: int | None, low: int, high: int) -> int | None:
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise validation_error(name, f"{name} must be an integer") from None
    if not low <= value <= high:
        raise validation_error(name, f"{name} must be between {low} and {high}")
    return value


def _page(
    request: Request,
    items: Sequence[T],
    path: str,
    id_of: Callable[[T], int] = itemgetter("id"),
    render: Callable[[T], Any] = lambda item: item,
) -> dict[str, Any]:
    """Cursor pagination over ``items`` sorted by ascending id; ``cursorId`` = last id of the previous page.

    Only the returned page is rendered, so walking a large list stays linear per page.
    """
    limit = _int_param(request, "limit", 10, 1, 100) or 10
    cursor = _int_param(request, "cursorId", None, 0, 2**63)
    start = 0
    if cursor is not None:
        start = bisect.bisect_right([id_of(item) for item in items], cursor)
    page = items[start : start + limit]
    base = str(request.base_url).rstrip("/") + "/v2" + path
    pagination: dict[str, str] = {}
    if start + limit < len(items):
        pagination["next"] = f"{base}?limit={limit}&cursorId={id_of(page[-1])}"
    if start > 0:
        prev_start = max(0, start - limit)
        prev_cursor = f"&cursorId={id_of(items[prev_start - 1])}" if prev_start > 0 else ""
        pagination["previous"] = f"{base}?limit={limit}{prev_cursor}"
    return {"items": [render(item) for item in page], "pagination": pagination}


def _emit_changes(state: StandinState, contact: Contact, changes: Changes, event_type: str) -> None:
    if has_changes(changes):
        state.webhooks.emit(event_type, contact.to_json(), "api", changes=changes)


def _emit_tags(state: StandinState, contact: Contact, tags: list[str], action: str) -> None:
    for tag in tags:
        state.webhooks.emit("contact.tag.updated", contact.to_json(), "api", tag=tag, action=action)


# -- contacts --------------------------------------------------------------------------------------
@router.post("/contact/list")
async def list_contacts(request: Request) -> JSONResponse:
    state = _state(request)
    body = await _json(request) or {}
    if not isinstance(body, dict):
        raise validation_error("body", "body must be a JSON object")
    match = compile_filter(body.get("filter"), email_fold=not state.store.email_case_sensitive)
    search = compile_search(body.get("search"))
    # contacts are stored in id order (ids only grow)
    matched = [c for c in state.store.ready_contacts() if match(c) and search(c)]
    page = _page(request, matched, "/contact/list", id_of=attrgetter("id"), render=lambda c: c.to_json())
    return JSONResponse(page)


@router.post("/contact/create_or_update/{identifier}")
async def create_or_update(identifier: str, request: Request) -> JSONResponse:
    state = _state(request)
    ident = _ident(identifier)
    body = await _json(request)
    existing = state.store.find(ident)
    if existing is None:
        if ident.kind == "id":
            raise not_found()
        update = parse_contact_fields(body, require_first_name=True)
        contact, changes = state.store.create(ident, update, delay=state.create_delay)
        _emit_changes(state, contact, changes, "contact.created")
        return _contact_id(contact)
    # Also while the contact is still in its create window: same id, never a duplicate.
    update = parse_contact_fields(body, require_first_name=False)
    changes = state.store.update(existing, update)
    _emit_changes(state, existing, changes, "contact.updated")
    return _contact_id(existing)


@router.get("/contact/{identifier}")
async def get_contact(identifier: str, request: Request) -> JSONResponse:
    state = _state(request)
    return JSONResponse(state.ready_contact(_ident(identifier)).to_json())


@router.post("/contact/{identifier}")
async def create_contact(identifier: str, request: Request) -> JSONResponse:
    state = _state(request)
    ident = _ident(identifier)
    if ident.kind == "id":
        raise validation_error("identifier", "create accepts only email: or phone: identifiers")
    update = parse_contact_fields(await _json(request), require_first_name=True)
    contact, changes = state.store.create(ident, update, delay=state.create_delay)
    _emit_changes(state, contact, changes, "contact.created")
    return JSONResponse({"code": 200, "message": "Contact added successfully!"})


@router.put("/contact/{identifier}")
async def update_contact(identifier: str, request: Request) -> JSONResponse:
    state = _state(request)
    contact = state.ready_contact(_ident(identifier))
    update = parse_contact_fields(await _json(request), require_first_name=False)
    changes = state.store.update(contact, update)
    _emit_changes(state, contact, changes, "contact.updated")
    return _contact_id(contact)


@router.delete("/contact/{identifier}")
async def delete_contact(identifier: str, request: Request) -> JSONResponse:
    state = _state(request)
    contact = state.ready_contact(_ident(identifier))
    state.store.delete(contact)
    return _contact_id(contact)


@router.post("/contact/{identifier}/tag")
async def add_tags(identifier: str, request: Request) -> JSONResponse:
    state = _state(request)
    ident = _ident(identifier)
    tags = parse_tag_list(await _json(request))
    contact = state.ready_contact(ident)
    added = state.store.add_tags(contact, tags, strict=state.config.strict_tags)
    _emit_tags(state, contact, added, "add")
    return _contact_id(contact)


@router.delete("/contact/{identifier}/tag")
async def remove_tags(identifier: str, request: Request) -> JSONResponse:
    state = _state(request)
    ident = _ident(identifier)
    tags = parse_tag_list(await _json(request))
    contact = state.ready_contact(ident)
    removed = state.store.remove_tags(contact, tags)
    _emit_tags(state, contact, removed, "remove")
    return _contact_id(contact)


# -- workspace tags --------------------------------------------------------------------------------
def _tag_body(body: Any, name_key: str) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise validation_error("body", "body must be a JSON object")
    name = body.get(name_key)
    if not isinstance(name, str) or not name.strip() or len(name) > 255:
        raise validation_error(name_key, f"{name_key} is required (at most 255 characters)")
    return body


@router.get("/space/tag")
async def list_tags(request: Request) -> JSONResponse:
    tags = sorted(_state(request).store.tags.values(), key=lambda t: t["id"])
    return JSONResponse(_page(request, tags, "/space/tag"))


@router.post("/space/tag")
async def create_tag(request: Request) -> JSONResponse:
    state = _state(request)
    body = _tag_body(await _json(request), "name")
    if body["name"] in state.store.tags:
        raise ApiError(409, "Tag already exists")
    extra = {k: body.get(k) for k in ("description", "colorCode", "emoji")}
    tag = state.store.ensure_tag(body["name"], **extra)
    return JSONResponse({"code": 200, "message": dict(tag)})


@router.put("/space/tag")
async def update_tag(request: Request) -> JSONResponse:
    state = _state(request)
    body = _tag_body(await _json(request), "currentName")
    tag = state.store.rename_tag(body["currentName"], body)
    return JSONResponse({"code": 200, "message": dict(tag)})


@router.delete("/space/tag")
async def delete_tag(request: Request) -> JSONResponse:
    state = _state(request)
    body = _tag_body(await _json(request), "name")
    state.store.delete_tag(body["name"])
    return JSONResponse({"code": 200, "message": "Tag deleted successfully!"})


# -- custom fields, users ----------------------------------------------------------------------------
@router.get("/space/custom_field")
async def list_custom_fields(request: Request) -> JSONResponse:
    fields = sorted(_state(request).store.custom_fields.values(), key=lambda f: f["id"])
    return JSONResponse(_page(request, fields, "/space/custom_field"))


@router.get("/space/custom_field/{field_id}")
async def get_custom_field(field_id: str, request: Request) -> JSONResponse:
    if not field_id.isdigit():
        raise validation_error("id", "id must be a number")
    item = _state(request).store.custom_fields.get(int(field_id))
    if item is None:
        raise not_found("Custom field not found")
    return JSONResponse(item)


@router.post("/space/custom_field")
async def create_custom_field(request: Request) -> JSONResponse:
    state = _state(request)
    definition = parse_custom_field_definition(await _json(request))
    return JSONResponse(state.store.add_custom_field(definition))


@router.get("/space/user")
async def list_users(request: Request) -> JSONResponse:
    return JSONResponse(_page(request, _USERS, "/space/user"))
