"""The FastAPI application: Salesforce's OAuth and REST data endpoints, plus the admin router.

Every data call under ``/services/data/vXX.X/`` goes through :meth:`StandIn.gate`: injected latency and
503s first, then the version check, the bearer session (401 ``INVALID_SESSION_ID``) and the daily API
allocation (403 ``REQUEST_LIMIT_EXCEEDED``). Data responses carry ``Sforce-Limit-Info: api-usage=N/M``.
Handlers run on the event loop thread, so SQLite access is naturally serialised.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
from typing import Any
from urllib.parse import parse_qsl

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from sandbox.salesforce import bulk, soql, timefmt
from sandbox.salesforce.auth import Session, Sessions, parse_basic
from sandbox.salesforce.compiler import compile_query
from sandbox.salesforce.config import Config
from sandbox.salesforce.errors import OAuthError, RecordError, SalesforceError, not_found
from sandbox.salesforce.ids import to18
from sandbox.salesforce.limits import ApiUsage, Counters, Faults, Locks
from sandbox.salesforce.records import RecordShape, validate_write
from sandbox.salesforce.schema import SOBJECTS, SObject, lookup
from sandbox.salesforce.store import Store, full_name

log = logging.getLogger(__name__)

_VERSION_RE = re.compile(r"^v(\d+)\.(\d)$")
_BATCH_RE = re.compile(r"batchSize\s*=\s*(\d+)", re.IGNORECASE)
JSON_TYPE = "application/json;charset=UTF-8"
MAX_COLLECTION = 200


def dumps(body: Any) -> bytes:
    return json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode()


class StandIn:
    """All state of one running stand-in."""

    def __init__(self, config: Config) -> None:
        self.config = config
        config.data_dir.mkdir(parents=True, exist_ok=True)
        self.store = Store(config.data_dir / "salesforce.sqlite3")
        self.sessions = Sessions(config)
        self.usage = ApiUsage(config.daily_api_limit)
        self.faults = Faults(latency_ms=config.latency_ms, error_rate=config.error_rate, seed=config.seed)
        self.counters = Counters()
        self.locks = Locks()
        self.jobs = bulk.QueryJobs()

    def reset(self) -> None:
        """Wipe data, cursors, jobs, counters, usage, locks and faults; configuration and sessions stay."""
        self.store.wipe()
        self.jobs.clear()
        self.counters.reset()
        self.usage.set(used=0, limit=self.config.daily_api_limit)
        self.locks.clear()
        self.faults.update(latency_ms=self.config.latency_ms, error_rate=self.config.error_rate, burst=0)

    # --- request gate --------------------------------------------------------------------------------
    async def faults_gate(self, endpoint: str) -> None:
        self.counters.count_call(endpoint)
        if self.faults.latency_ms > 0:
            await asyncio.sleep(self.faults.latency_ms / 1000)
        if self.faults.should_fail():
            raise SalesforceError(503, "SERVER_UNAVAILABLE", "Server is unavailable")

    def check_version(self, version: str) -> str:
        match = _VERSION_RE.match(version)
        if not match:
            raise not_found()
        number = float(f"{match.group(1)}.{match.group(2)}")
        if number < self.config.min_version:
            raise SalesforceError(410, "GONE", f"API version {number:.1f} has been retired")
        if number > self.config.max_version:
            raise not_found()
        return f"{number:.1f}"

    async def gate(self, request: Request, endpoint: str, version: str) -> tuple[Session, str]:
        """Faults → version → session → API allocation. Returns the session and the bare version."""
        await self.faults_gate(endpoint)
        bare = self.check_version(version)
        header = request.headers.get("authorization", "")
        scheme, _, token = header.partition(" ")
        session = self.sessions.check(token.strip() if scheme.lower() in ("bearer", "oauth") else None)
        if session is None:
            raise SalesforceError(401, "INVALID_SESSION_ID", "Session expired or invalid")
        if not self.usage.try_consume():
            raise SalesforceError(403, "REQUEST_LIMIT_EXCEEDED", "TotalRequests Limit exceeded.")
        return session, bare

    def respond(self, body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
        all_headers = {"Sforce-Limit-Info": self.usage.header(), **(headers or {})}
        if status == 204:
            return Response(status_code=204, headers=all_headers)
        return Response(dumps(body), status_code=status, media_type=JSON_TYPE, headers=all_headers)

    def sobject(self, name: str) -> SObject:
        found = lookup(name)
        if found is None:
            raise not_found()
        return found

    def batch_size(self, request: Request, default: int | None = None) -> int:
        match = _BATCH_RE.search(request.headers.get("sforce-query-options", ""))
        if not match:
            return default or self.config.page_size
        return max(200, min(2000, int(match.group(1))))

    # --- queries -------------------------------------------------------------------------------------
    def run_query(self, request: Request, version: str, endpoint: str) -> Response:
        text = request.query_params.get("q")
        if text is None or not text.strip():
            raise SalesforceError(400, "MALFORMED_QUERY", "A query string has to be specified")
        parsed = soql.parse(text)
        compiled = compile_query(parsed, include_deleted=endpoint == "queryAll")
        if compiled.count:
            total = self.store.scalar(*compiled.count_sql())
            return self.respond({"totalSize": total, "done": True, "records": []})
        rowids = self.store.execute_ids(*compiled.id_sql())
        batch = self.batch_size(request)
        shape = RecordShape(compiled.sobject, compiled.fields, version)
        rows = self.store.fetch_rows(compiled.sobject, shape.columns, rowids[:batch])
        body: dict[str, Any] = {"totalSize": len(rowids), "done": len(rowids) <= batch}
        if len(rowids) > batch:
            cursor = self.store.open_cursor(compiled.sobject, compiled.fields, rowids, endpoint, batch)
            body["nextRecordsUrl"] = f"/services/data/v{version}/{endpoint}/{cursor.locator}-{batch}"
        body["records"] = [shape.to_json(row) for row in rows]
        return self.respond(body)

    def query_more(self, request: Request, version: str, endpoint: str, locator_pos: str) -> Response:
        locator, _, position_text = locator_pos.rpartition("-")
        cursor = self.store.get_cursor(locator) if position_text.isdigit() else None
        position = int(position_text) if position_text.isdigit() else -1
        if cursor is None or position > len(cursor.rowids):
            raise SalesforceError(400, "INVALID_QUERY_LOCATOR", "invalid query locator")
        batch = self.batch_size(request, cursor.batch_size)
        shape = RecordShape(cursor.sobject, cursor.fields, version)
        page = cursor.rowids[position : position + batch]
        rows = self.store.fetch_rows(cursor.sobject, shape.columns, page)
        end = position + batch
        body: dict[str, Any] = {"totalSize": len(cursor.rowids), "done": end >= len(cursor.rowids)}
        if end < len(cursor.rowids):
            body["nextRecordsUrl"] = f"/services/data/v{version}/{endpoint}/{cursor.locator}-{end}"
        body["records"] = [shape.to_json(row) for row in rows]
        return self.respond(body)

    # --- records -------------------------------------------------------------------------------------
    def live_row(self, sobject: SObject, record_id: str) -> dict[str, Any]:
        normal = to18(record_id)
        row = self.store.get_row(sobject, normal) if normal else None
        if row is None:
            raise RecordError("NOT_FOUND", "The requested resource does not exist", http=404)
        if row["IsDeleted"]:
            raise RecordError("ENTITY_IS_DELETED", "entity is deleted", http=404)
        return row

    def prepare_update(
        self, sobject: SObject, record_id: str, body: dict[str, Any], session: Session
    ) -> tuple[str, dict[str, Any]]:
        """Validate one update; returns ``(id, stored values incl. audit fields)`` or raises ``RecordError``."""
        row = self.live_row(sobject, record_id)
        values = validate_write(sobject, body, creating=False)
        if self.locks.hit(row["Id"]):
            raise RecordError(
                "UNABLE_TO_LOCK_ROW",
                f"unable to obtain exclusive access to this record or 1 records: {row['Id']}",
            )
        stamp = timefmt.fmt(timefmt.now())
        values.update(
            {"LastModifiedDate": stamp, "SystemModstamp": stamp, "LastModifiedById": session.user_id}
        )
        if sobject.name in ("Contact", "Lead") and ("FirstName" in values or "LastName" in values):
            values["Name"] = full_name(
                values.get("FirstName", row["FirstName"]), values.get("LastName", row["LastName"])
            )
        return row["Id"], values


async def _json_body(request: Request) -> Any:
    raw = await request.body()
    try:
        return json.loads(raw or b"null")
    except ValueError as exc:
        raise SalesforceError(
            400, "JSON_PARSER_ERROR", f"Unexpected character in the request body: {exc}"
        ) from exc


def create_app(config: Config) -> FastAPI:
    """Build the stand-in application for ``config``."""
    from sandbox.salesforce.admin import build_admin_router

    standin = StandIn(config)
    app = FastAPI(title="Salesforce stand-in", docs_url=None, redoc_url=None, openapi_url=None)
    app.state.standin = standin
    app.include_router(build_admin_router(standin))

    @app.middleware("http")
    async def count_statuses(request: Request, call_next: Any) -> Any:
        response = await call_next(request)
        if not request.url.path.startswith("/__admin"):
            standin.counters.count_status(response.status_code)
        return response

    @app.exception_handler(SalesforceError)
    async def salesforce_error(request: Request, exc: SalesforceError) -> Response:
        headers = (
            {"Sforce-Limit-Info": standin.usage.header()} if "/services/data/v" in request.url.path else {}
        )
        return Response(dumps(exc.body()), status_code=exc.status, media_type=JSON_TYPE, headers=headers)

    @app.exception_handler(RecordError)
    async def record_error(request: Request, exc: RecordError) -> Response:
        return await salesforce_error(request, exc.as_rest_error())

    @app.exception_handler(OAuthError)
    async def oauth_error(request: Request, exc: OAuthError) -> Response:
        return Response(
            dumps({"error": exc.error, "error_description": exc.description}),
            status_code=exc.status,
            media_type=JSON_TYPE,
        )

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        if exc.status_code == 405:
            error = SalesforceError(405, "METHOD_NOT_ALLOWED", f"HTTP Method '{request.method}' not allowed.")
        elif exc.status_code == 404:
            error = not_found()
        else:
            error = SalesforceError(exc.status_code, "UNKNOWN_EXCEPTION", str(exc.detail))
        return await salesforce_error(request, error)

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError) -> Response:
        return await salesforce_error(
            request, SalesforceError(400, "INVALID_REQUEST", str(exc.errors())[:500])
        )

    # --- OAuth ---------------------------------------------------------------------------------------
    @app.post("/services/oauth2/token")
    async def token(request: Request) -> Response:
        await standin.faults_gate("oauth_token")
        form = dict(parse_qsl((await request.body()).decode(errors="replace"), keep_blank_values=True))
        basic = parse_basic(request.headers.get("authorization"))
        instance_url = f"{request.url.scheme}://{request.url.netloc}"
        body = standin.sessions.grant(form, basic, instance_url)
        return Response(dumps(body), media_type=JSON_TYPE)

    # --- versions and resources ----------------------------------------------------------------------
    @app.get("/services/data")
    @app.get("/services/data/")
    async def versions(request: Request) -> Response:
        await standin.faults_gate("versions")
        out = []
        number = max(standin.config.min_version, 31.0)
        while number <= standin.config.max_version + 1e-9:
            out.append(
                {
                    "label": _release_label(number),
                    "url": f"/services/data/v{number:.1f}",
                    "version": f"{number:.1f}",
                }
            )
            number += 1
        return Response(dumps(out), media_type=JSON_TYPE)

    @app.get("/services/data/{version}")
    @app.get("/services/data/{version}/")
    async def resources(request: Request, version: str) -> Response:
        _, bare = await standin.gate(request, "resources", version)
        base = f"/services/data/v{bare}"
        names = ["composite", "jobs", "limits", "query", "queryAll", "sobjects"]
        return standin.respond({name: f"{base}/{name}" for name in names})

    @app.get("/services/data/{version}/limits")
    @app.get("/services/data/{version}/limits/")
    async def limits(request: Request, version: str) -> Response:
        await standin.gate(request, "limits", version)
        usage = standin.usage
        return standin.respond(
            {
                "DailyApiRequests": {"Max": usage.limit, "Remaining": max(0, usage.limit - usage.used)},
                "DailyAsyncApexExecutions": {"Max": 250000, "Remaining": 250000},
                "DailyBulkApiBatches": {"Max": 15000, "Remaining": 15000},
                "DailyBulkV2QueryFileStorageMB": {"Max": 976562, "Remaining": 976562},
                "DailyBulkV2QueryJobs": {"Max": 10000, "Remaining": max(0, 10000 - len(standin.jobs.list()))},
                "DataStorageMB": {"Max": 1024, "Remaining": 1024},
                "HourlyODataCallout": {"Max": 10000, "Remaining": 10000},
            }
        )

    # --- sObjects ------------------------------------------------------------------------------------
    @app.get("/services/data/{version}/sobjects")
    @app.get("/services/data/{version}/sobjects/")
    async def global_describe(request: Request, version: str) -> Response:
        _, bare = await standin.gate(request, "describe_global", version)
        return standin.respond(
            {
                "encoding": "UTF-8",
                "maxBatchSize": 200,
                "sobjects": [
                    obj.global_entry(bare) for obj in sorted(SOBJECTS.values(), key=lambda o: o.name)
                ],
            }
        )

    @app.get("/services/data/{version}/sobjects/{name}/describe")
    @app.get("/services/data/{version}/sobjects/{name}/describe/")
    async def describe(request: Request, version: str, name: str) -> Response:
        _, bare = await standin.gate(request, "describe", version)
        return standin.respond(standin.sobject(name).describe(bare))

    @app.get("/services/data/{version}/sobjects/{name}/deleted")
    @app.get("/services/data/{version}/sobjects/{name}/deleted/")
    async def get_deleted(request: Request, version: str, name: str) -> Response:
        await standin.gate(request, "get_deleted", version)
        sobject = standin.sobject(name)
        start, end = _replication_window(request, days_back=15)
        found = standin.store.deleted_between(sobject, start, end)
        earliest = found[0][1] if found else start
        return standin.respond(
            {
                "deletedRecords": [{"id": rid, "deletedDate": when} for rid, when in found],
                "earliestDateAvailable": earliest,
                "latestDateCovered": end,
            }
        )

    @app.get("/services/data/{version}/sobjects/{name}/updated")
    @app.get("/services/data/{version}/sobjects/{name}/updated/")
    async def get_updated(request: Request, version: str, name: str) -> Response:
        await standin.gate(request, "get_updated", version)
        sobject = standin.sobject(name)
        start, end = _replication_window(request, days_back=30)
        return standin.respond(
            {"ids": standin.store.updated_between(sobject, start, end), "latestDateCovered": end}
        )

    @app.get("/services/data/{version}/sobjects/{name}")
    @app.get("/services/data/{version}/sobjects/{name}/")
    async def sobject_basic(request: Request, version: str, name: str) -> Response:
        _, bare = await standin.gate(request, "sobject_basic", version)
        sobject = standin.sobject(name)
        return standin.respond({"objectDescribe": sobject.global_entry(bare), "recentItems": []})

    @app.post("/services/data/{version}/sobjects/{name}")
    @app.post("/services/data/{version}/sobjects/{name}/")
    async def create_record(request: Request, version: str, name: str) -> Response:
        session, _ = await standin.gate(request, "create", version)
        sobject = standin.sobject(name)
        body = await _json_body(request)
        if not isinstance(body, dict):
            raise SalesforceError(400, "JSON_PARSER_ERROR", "Expected a JSON object")
        body.pop("attributes", None)
        values = validate_write(sobject, body, creating=True)
        stamp = timefmt.fmt(timefmt.now())
        values.update(
            {
                "CreatedDate": stamp,
                "LastModifiedDate": stamp,
                "SystemModstamp": stamp,
                "CreatedById": session.user_id,
                "LastModifiedById": session.user_id,
                "OwnerId": values.get("OwnerId") or session.user_id,
            }
        )
        (new_id,) = standin.store.load(sobject, [values], replace=False)
        return standin.respond({"id": new_id, "success": True, "errors": []}, status=201)

    @app.get("/services/data/{version}/sobjects/{name}/{record_id}")
    async def get_record(request: Request, version: str, name: str, record_id: str) -> Response:
        _, bare = await standin.gate(request, "get_record", version)
        sobject = standin.sobject(name)
        row = standin.live_row(sobject, record_id)
        wanted = request.query_params.get("fields")
        if wanted:
            fields = []
            for item in wanted.split(","):
                found = sobject.get(item.strip())
                if found is None:
                    raise SalesforceError(
                        400, "INVALID_FIELD", f"No such column '{item.strip()}' on entity '{sobject.name}'."
                    )
                fields.append(found)
        else:
            fields = list(sobject.fields)
        shape = RecordShape(sobject, fields, bare)
        return standin.respond(shape.to_json(tuple(row[c] for c in shape.columns)))

    @app.patch("/services/data/{version}/sobjects/{name}/{record_id}")
    async def update_record(request: Request, version: str, name: str, record_id: str) -> Response:
        session, _ = await standin.gate(request, "update", version)
        sobject = standin.sobject(name)
        body = await _json_body(request)
        if not isinstance(body, dict):
            raise SalesforceError(400, "JSON_PARSER_ERROR", "Expected a JSON object")
        body.pop("attributes", None)
        rid, values = standin.prepare_update(sobject, record_id, body, session)
        standin.store.update_row(sobject, rid, values)
        return standin.respond(None, status=204)

    @app.delete("/services/data/{version}/sobjects/{name}/{record_id}")
    async def delete_record(request: Request, version: str, name: str, record_id: str) -> Response:
        await standin.gate(request, "delete", version)
        sobject = standin.sobject(name)
        row = standin.live_row(sobject, record_id)
        if standin.locks.hit(row["Id"]):
            raise RecordError(
                "UNABLE_TO_LOCK_ROW",
                f"unable to obtain exclusive access to this record or 1 records: {row['Id']}",
            )
        standin.store.soft_delete(sobject, row["Id"], timefmt.fmt(timefmt.now()))
        return standin.respond(None, status=204)

    # --- query ---------------------------------------------------------------------------------------
    for endpoint in ("query", "queryAll"):
        _register_query_routes(app, standin, endpoint)

    # --- sObject collections -------------------------------------------------------------------------
    @app.patch("/services/data/{version}/composite/sobjects")
    @app.patch("/services/data/{version}/composite/sobjects/")
    async def collection_update(request: Request, version: str) -> Response:
        session, _ = await standin.gate(request, "composite_update", version)
        body = await _json_body(request)
        if not isinstance(body, dict) or not isinstance(body.get("records"), list):
            raise SalesforceError(400, "JSON_PARSER_ERROR", "The request body must contain a records array")
        records = body["records"]
        if len(records) > MAX_COLLECTION:
            raise SalesforceError(
                400,
                "EXCEEDED_ID_LIMIT",
                "record limit reached. cannot submit more than 200 records into this call",
            )
        all_or_none = bool(body.get("allOrNone", False))
        return standin.respond(_collection_update(standin, session, records, all_or_none))

    # --- Bulk API 2.0 query jobs ---------------------------------------------------------------------
    from sandbox.salesforce.bulk_routes import register_bulk_routes

    register_bulk_routes(app, standin)
    return app


def _collection_update(
    standin: StandIn, session: Session, records: list[Any], all_or_none: bool
) -> list[dict[str, Any]]:
    results: list[dict[str, Any]] = []
    updates: list[tuple[SObject, str, dict[str, Any]]] = []
    failed = False
    for item in records:
        record_id = item.get("id") if isinstance(item, dict) else None
        try:
            if not isinstance(item, dict):
                raise RecordError("JSON_PARSER_ERROR", "Each record must be a JSON object")
            item = dict(item)
            attributes = item.pop("attributes", None)
            item.pop("id", None)
            if record_id is None and isinstance(item.get("Id"), str):
                record_id = item.pop("Id")
            type_name = attributes.get("type") if isinstance(attributes, dict) else None
            if not type_name:
                raise RecordError("INVALID_TYPE", "No SObject Type defined in the json")
            if not record_id:
                raise RecordError("MISSING_ARGUMENT", "Id not specified in an update call")
            sobject = lookup(type_name)
            if sobject is None:
                raise RecordError("INVALID_TYPE", f"sObject type '{type_name}' is not supported.")
            normal_id, values = standin.prepare_update(sobject, str(record_id), item, session)
            updates.append((sobject, normal_id, values))
            results.append({"id": normal_id, "success": True, "errors": []})
        except RecordError as error:
            failed = True
            entry: dict[str, Any] = {"success": False, "errors": [error.as_collection_error()]}
            if record_id:
                entry = {"id": to18(str(record_id)) or record_id, **entry}
            results.append(entry)
    if all_or_none and failed:
        rolled_back = {
            "statusCode": "ALL_OR_NONE_OPERATION_ROLLED_BACK",
            "message": "Record rolled back because not all records were valid and the request was using AllOrNone header",
            "fields": [],
        }
        return [
            result
            if not result["success"]
            else {"id": result["id"], "success": False, "errors": [rolled_back]}
            for result in results
        ]
    by_object: dict[str, list[tuple[str, dict[str, Any]]]] = {}
    for sobject, rid, values in updates:
        by_object.setdefault(sobject.name, []).append((rid, values))
    for name, items in by_object.items():
        standin.store.apply_updates(SOBJECTS[name.lower()], items)
    return results


def _register_query_routes(app: FastAPI, standin: StandIn, endpoint: str) -> None:
    async def run(request: Request, version: str) -> Response:
        _, bare = await standin.gate(request, endpoint, version)
        return standin.run_query(request, bare, endpoint)

    async def more(request: Request, version: str, locator: str) -> Response:
        _, bare = await standin.gate(request, endpoint + "_more", version)
        return standin.query_more(request, bare, endpoint, locator)

    app.add_api_route(f"/services/data/{{version}}/{endpoint}", run, methods=["GET"])
    app.add_api_route(f"/services/data/{{version}}/{endpoint}/", run, methods=["GET"])
    app.add_api_route(f"/services/data/{{version}}/{endpoint}/{{locator}}", more, methods=["GET"])


def _replication_window(request: Request, *, days_back: int) -> tuple[str, str]:
    """``start``/``end`` query parameters, seconds ignored (truncated to the minute), as stored strings."""
    import datetime as dt

    values = []
    for key in ("start", "end"):
        raw = request.query_params.get(key)
        if not raw:
            raise SalesforceError(400, "MISSING_ARGUMENT", f"Missing required parameter: {key}")
        try:
            parsed = timefmt.parse(raw.replace(" ", "+"))
        except ValueError as exc:
            raise SalesforceError(400, "INVALID_REPLICATION_DATE", f"Invalid {key} date: {raw}") from exc
        values.append(parsed.replace(second=0, microsecond=0))
    start, end = values
    if end < start:
        raise SalesforceError(
            400, "INVALID_REPLICATION_DATE", "endDate must chronologically follow the startDate"
        )
    if start < dt.datetime.now(dt.UTC) - dt.timedelta(days=days_back):
        raise SalesforceError(
            400, "INVALID_REPLICATION_DATE", f"startDate cannot be more than {days_back} days ago"
        )
    return timefmt.fmt(start), timefmt.fmt(end)


def _release_label(version: float) -> str:
    """``66.0`` → ``Spring '26`` (three releases a year; Winter is named after the following year)."""
    index = int(version) - 66
    season = ("Spring", "Summer", "Winter")[index % 3]
    return f"{season} '{26 + (index + 1) // 3:02d}"
