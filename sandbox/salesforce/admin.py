"""Admin endpoints under ``/__admin/`` (no auth; never counted as API calls).

They stand in for what people and Salesforce itself do to an org: load data with audit fields, edit a
record in the UI, delete and merge records, make rows lock, inject faults, expire sessions, spend the API
allocation. See ``sandbox/salesforce/README.md`` for the bodies.
"""

from __future__ import annotations

import csv
import json
import logging
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from sandbox.salesforce import ids, timefmt
from sandbox.salesforce.errors import SalesforceError
from sandbox.salesforce.schema import SObject, lookup
from sandbox.salesforce.store import UI_USER_ID, full_name, loader

if TYPE_CHECKING:
    from sandbox.salesforce.app import StandIn

log = logging.getLogger(__name__)
MAX_IDS_RETURNED = 50_000


def _json(body: Any, status: int = 200) -> Response:
    return Response(
        json.dumps(body, separators=(",", ":")).encode(), status_code=status, media_type="application/json"
    )


def _bad(message: str) -> SalesforceError:
    return SalesforceError(400, "ADMIN_BAD_REQUEST", message)


async def _body(request: Request) -> Any:
    raw = await request.body()
    if not raw:
        return {}
    try:
        return json.loads(raw)
    except ValueError as exc:
        raise _bad(f"invalid JSON: {exc}") from exc


def _sobject(name: Any) -> SObject:
    found = lookup(str(name or "Contact"))
    if found is None:
        raise _bad(f"unknown object {name!r}")
    return found


def _stamp(value: Any) -> str:
    if value in (None, ""):
        return timefmt.fmt(timefmt.now())
    try:
        stamp = timefmt.canonical(value)
    except ValueError as exc:
        raise _bad(f"not a datetime: {value!r}") from exc
    assert stamp is not None
    return stamp


def _iter_file(path: Path) -> Iterator[dict[str, Any]]:
    """Records of a JSONL or CSV file (CSV empty cells are left out, i.e. null)."""
    if not path.is_file():
        raise _bad(f"no such file on the server: {path}")
    if path.suffix.lower() == ".csv":
        with path.open(newline="", encoding="utf-8") as handle:
            for row in csv.DictReader(handle):
                yield {k: v for k, v in row.items() if v != ""}
        return
    with path.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, 1):
            if line.strip():
                try:
                    yield json.loads(line)
                except ValueError as exc:
                    raise _bad(f"{path}:{number}: invalid JSON") from exc


def _chunks(records: Iterable[dict[str, Any]], size: int = 50_000) -> Iterator[list[dict[str, Any]]]:
    chunk: list[dict[str, Any]] = []
    for record in records:
        if not isinstance(record, dict):
            raise _bad("records must be objects")
        chunk.append(record)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _existing(standin: StandIn, sobject: SObject, record_id: Any) -> dict[str, Any]:
    normal = ids.to18(str(record_id or ""))
    row = standin.store.get_row(sobject, normal) if normal else None
    if row is None:
        raise SalesforceError(404, "NOT_FOUND", f"no {sobject.name} with id {record_id}")
    return row


def build_admin_router(standin: StandIn) -> APIRouter:
    """The ``/__admin`` routes bound to ``standin``."""
    router = APIRouter(prefix="/__admin")

    @router.get("/health")
    async def health() -> Response:
        return _json({"status": "ok", "service": "salesforce"})

    @router.post("/reset")
    async def reset() -> Response:
        standin.reset()
        return _json({"reset": True})

    @router.post("/load")
    async def load(request: Request) -> Response:
        """Body: a JSON list of records, or ``{"object", "records"}`` / ``{"object", "path"}`` (JSONL or CSV)."""
        body = await _body(request)
        object_name = request.query_params.get("object")
        records: Iterable[dict[str, Any]]
        if isinstance(body, list):
            records = body
        elif isinstance(body, dict):
            object_name = body.get("object", object_name)
            if body.get("path"):
                records = _iter_file(Path(str(body["path"])))
            else:
                records = body.get("records", [])
        else:
            raise _bad("body must be a list of records or an object")
        if not isinstance(records, list | Iterator):
            raise _bad("records must be a list of objects")
        sobject = _sobject(object_name)
        loaded: list[str] = []
        try:
            for chunk in _chunks(records):  # one transaction per chunk keeps memory flat for big files
                loaded.extend(standin.store.load(sobject, chunk))
        except ValueError as exc:
            raise _bad(str(exc)) from exc
        log.info("loaded %s %s records", len(loaded), sobject.name)
        answer: dict[str, Any] = {"object": sobject.name, "loaded": len(loaded)}
        if len(loaded) <= MAX_IDS_RETURNED:
            answer["ids"] = loaded
        return _json(answer)

    @router.post("/edit")
    async def edit(request: Request) -> Response:
        """``{"object", "id", "fields": {...}, "at"?, "by"?}`` — an edit by a user in the UI.

        ``LastModifiedDate``/``SystemModstamp`` become ``at`` (default now) unless given in ``fields``.
        """
        body = await _body(request)
        sobject = _sobject(body.get("object"))
        row = _existing(standin, sobject, body.get("id"))
        fields = body.get("fields") or {}
        stamp = _stamp(body.get("at"))
        values: dict[str, Any] = {}
        for key, value in fields.items():
            fld = sobject.get(key)
            if fld is None or not fld.stored:
                raise _bad(f"unknown or compound {sobject.name} field {key!r}")
            try:
                values[fld.name] = loader(fld)(value) if value is not None else None
            except ValueError as exc:
                raise _bad(f"{key}: {exc}") from exc
        values.setdefault("LastModifiedDate", stamp)
        values.setdefault("SystemModstamp", max(stamp, values["LastModifiedDate"]))
        values.setdefault("LastModifiedById", ids.to18(str(body.get("by") or UI_USER_ID)))
        if sobject.name in ("Contact", "Lead"):
            values["Name"] = full_name(
                values.get("FirstName", row["FirstName"]), values.get("LastName", row["LastName"])
            )
        standin.store.update_row(sobject, row["Id"], values)
        return _json({"id": row["Id"], "SystemModstamp": values["SystemModstamp"]})

    @router.post("/delete")
    async def delete(request: Request) -> Response:
        """``{"object", "ids": [...]}`` (or ``"id"``), optional ``"at"``: move records to the recycle bin."""
        body = await _body(request)
        sobject = _sobject(body.get("object"))
        wanted = body.get("ids") or ([body["id"]] if body.get("id") else [])
        stamp = _stamp(body.get("at"))
        deleted = []
        for record_id in wanted:
            row = _existing(standin, sobject, record_id)
            standin.store.soft_delete(sobject, row["Id"], stamp)
            deleted.append(row["Id"])
        return _json({"deleted": deleted, "deletedDate": stamp})

    @router.post("/merge")
    async def merge(request: Request) -> Response:
        """``{"object", "master_id", "loser_ids": [1 or 2 ids], "at"?}``: losers are deleted with MasterRecordId."""
        body = await _body(request)
        sobject = _sobject(body.get("object"))
        master = _existing(standin, sobject, body.get("master_id"))
        losers = [_existing(standin, sobject, rid) for rid in body.get("loser_ids") or []]
        if not 1 <= len(losers) <= 2:
            raise _bad("a merge takes one master and one or two losing records")
        if master["IsDeleted"] or any(row["IsDeleted"] for row in losers):
            raise _bad("merged records must not be deleted")
        if any(row["Id"] == master["Id"] for row in losers):
            raise _bad("the master cannot also be a losing record")
        stamp = _stamp(body.get("at"))
        for row in losers:
            standin.store.soft_delete(sobject, row["Id"], stamp, master_id=master["Id"])
        standin.store.update_row(
            sobject,
            master["Id"],
            {"LastModifiedDate": stamp, "SystemModstamp": stamp, "LastModifiedById": UI_USER_ID},
        )
        return _json({"master_id": master["Id"], "merged": [row["Id"] for row in losers], "at": stamp})

    @router.get("/records/{object_name}/{record_id}")
    async def raw_record(object_name: str, record_id: str) -> Response:
        """The stored row (deleted ones too) without spending API calls — for tests."""
        sobject = _sobject(object_name)
        row = _existing(standin, sobject, record_id)
        row["IsDeleted"] = bool(row["IsDeleted"])
        return _json(row)

    @router.get("/counters")
    async def counters() -> Response:
        snapshot = standin.counters.snapshot()
        snapshot.update({"api_usage": standin.usage.used, "api_limit": standin.usage.limit})
        return _json(snapshot)

    @router.get("/faults")
    async def get_faults() -> Response:
        return _json(standin.faults.snapshot())

    @router.post("/faults")
    async def set_faults(request: Request) -> Response:
        """``{"latency_ms"?, "error_rate"?, "burst"?, "seed"?}`` — ``burst`` = next N requests answer 503."""
        body = await _body(request)
        try:
            standin.faults.update(**{k: body.get(k) for k in ("latency_ms", "error_rate", "burst", "seed")})
        except (TypeError, ValueError) as exc:
            raise _bad(str(exc)) from exc
        return _json(standin.faults.snapshot())

    @router.post("/expire-sessions")
    async def expire_sessions() -> Response:
        return _json({"expired": standin.sessions.expire_all()})

    @router.post("/api-usage")
    async def api_usage(request: Request) -> Response:
        """``{"used"?, "limit"?}`` — set the rolling usage counter and/or the daily allocation."""
        body = await _body(request)
        used, limit = body.get("used"), body.get("limit")
        standin.usage.set(
            used=int(used) if used is not None else None, limit=int(limit) if limit is not None else None
        )
        return _json({"api_usage": standin.usage.used, "api_limit": standin.usage.limit})

    @router.post("/locks")
    async def set_locks(request: Request) -> Response:
        """``{"ids": [...], "times": N | null}`` — writes to these records fail with UNABLE_TO_LOCK_ROW."""
        body = await _body(request)
        normal = [ids.to18(str(rid)) for rid in body.get("ids") or []]
        if any(rid is None for rid in normal):
            raise _bad("malformed id in ids")
        times = body.get("times")
        standin.locks.set([rid for rid in normal if rid], int(times) if times is not None else None)
        return _json({"locks": standin.locks.snapshot()})

    @router.delete("/locks")
    async def clear_locks() -> Response:
        standin.locks.clear()
        return _json({"locks": {}})

    @router.post("/refresh-tokens")
    async def refresh_token() -> Response:
        """Issue a refresh token for ``grant_type=refresh_token`` (stands in for an interactive authorisation)."""
        return _json({"refresh_token": standin.sessions.issue_refresh_token()})

    return router
