"""Routes of Bulk API 2.0 query jobs (``/services/data/vXX.X/jobs/query...``)."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from fastapi import FastAPI, Request
from fastapi.responses import Response

from sandbox.salesforce import bulk, soql
from sandbox.salesforce.compiler import compile_query
from sandbox.salesforce.errors import SalesforceError
from sandbox.salesforce.records import RecordShape

if TYPE_CHECKING:
    from sandbox.salesforce.app import StandIn


def register_bulk_routes(app: FastAPI, standin: StandIn) -> None:
    """Add the query-job routes to ``app``."""
    base = "/services/data/{version}/jobs/query"

    async def create_job(request: Request, version: str) -> Response:
        session, bare = await standin.gate(request, "bulk_create", version)
        try:
            body: Any = json.loads(await request.body() or b"null")
        except ValueError as exc:
            raise SalesforceError(400, "JSON_PARSER_ERROR", "Invalid JSON in the request body") from exc
        if not isinstance(body, dict):
            raise SalesforceError(400, "JSON_PARSER_ERROR", "Expected a JSON object")
        operation = body.get("operation")
        if operation not in ("query", "queryAll"):
            raise SalesforceError(400, "INVALIDJOB", f"Invalid operation: {operation}")
        delimiter = body.get("columnDelimiter") or "COMMA"
        line_ending = body.get("lineEnding") or "LF"
        if delimiter not in bulk.DELIMITERS or line_ending not in bulk.LINE_ENDINGS:
            raise SalesforceError(400, "INVALIDJOB", "Invalid columnDelimiter or lineEnding")
        if (body.get("contentType") or "CSV") != "CSV":
            raise SalesforceError(400, "INVALIDJOB", "Only contentType CSV is supported")
        text = body.get("query")
        if not isinstance(text, str) or not text.strip():
            raise SalesforceError(400, "INVALIDJOB", "A query is required for a query job")
        parsed = soql.parse(text)
        compiled = compile_query(parsed, include_deleted=operation == "queryAll")
        if compiled.count:
            raise SalesforceError(400, "API_ERROR", "Aggregate queries are not supported in Bulk API 2.0")
        error = None
        rowids = bulk.array("q")
        shape: RecordShape | None = None
        if any(f.type == "address" for f in compiled.fields):
            error = "Selecting compound data not supported in Bulk Query"
        else:
            shape = RecordShape(compiled.sobject, compiled.fields, bare)
            rowids = standin.store.execute_ids(*compiled.id_sql())
        stamp = bulk.now_stamp()
        job = bulk.QueryJob(
            id=standin.jobs.new_id(),
            operation=operation,
            object=compiled.sobject.name,
            query=text,
            api_version=bare,
            created_by=session.user_id,
            created_date=stamp,
            column_delimiter=delimiter,
            line_ending=line_ending,
            shape=shape,
            rowids=rowids,
            error=error,
            system_modstamp=stamp,
        )
        standin.jobs.add(job)
        return standin.respond(job.info(standin.config.bulk_job_ms, created=True))

    async def list_jobs(request: Request, version: str) -> Response:
        await standin.gate(request, "bulk_list", version)
        delay = standin.config.bulk_job_ms
        records = [job.info(delay) for job in standin.jobs.list()]
        return standin.respond({"done": True, "records": records, "nextRecordsUrl": None})

    async def get_job(request: Request, version: str, job_id: str) -> Response:
        await standin.gate(request, "bulk_get", version)
        return standin.respond(standin.jobs.get(job_id).info(standin.config.bulk_job_ms))

    async def patch_job(request: Request, version: str, job_id: str) -> Response:
        await standin.gate(request, "bulk_patch", version)
        job = standin.jobs.get(job_id)
        try:
            body: Any = json.loads(await request.body() or b"null")
        except ValueError as exc:
            raise SalesforceError(400, "JSON_PARSER_ERROR", "Invalid JSON in the request body") from exc
        if not isinstance(body, dict) or body.get("state") != "Aborted":
            raise SalesforceError(400, "INVALIDJOBSTATE", "Query jobs can only be set to the Aborted state")
        state = job.state(standin.config.bulk_job_ms)
        if state in ("JobComplete", "Failed"):
            raise SalesforceError(400, "INVALIDJOBSTATE", f"Aborting already {state} Job not allowed")
        job.aborted = True
        job.system_modstamp = bulk.now_stamp()
        return standin.respond(job.info(standin.config.bulk_job_ms))

    async def delete_job(request: Request, version: str, job_id: str) -> Response:
        await standin.gate(request, "bulk_delete", version)
        standin.jobs.delete(job_id)
        return standin.respond(None, status=204)

    async def results(request: Request, version: str, job_id: str) -> Response:
        await standin.gate(request, "bulk_results", version)
        job = standin.jobs.get(job_id)
        state = job.state(standin.config.bulk_job_ms)
        if state != "JobComplete":
            raise SalesforceError(400, "INVALIDJOBSTATE", f"Job is not complete: {state}")
        raw_max = request.query_params.get("maxRecords")
        try:
            max_records = int(raw_max) if raw_max else bulk.DEFAULT_MAX_RECORDS
        except ValueError as exc:
            raise SalesforceError(400, "INVALID_REQUEST", f"Invalid maxRecords: {raw_max}") from exc
        if max_records < 1:
            raise SalesforceError(400, "INVALID_REQUEST", f"Invalid maxRecords: {raw_max}")
        locator = request.query_params.get("locator")
        start = bulk.decode_locator(locator) if locator and locator != "null" else 0
        if start > len(job.rowids):
            raise SalesforceError(400, "INVALIDLOCATOR", f"Invalid locator: {locator}")
        assert job.shape is not None
        page = job.rowids[start : start + max_records]
        rows = standin.store.fetch_rows(job.shape.sobject, job.shape.columns, page)
        end = start + max_records
        next_locator = bulk.encode_locator(end) if end < len(job.rowids) else "null"
        return Response(
            bulk.render_csv(job, rows).encode(),
            media_type="text/csv; charset=UTF-8",
            headers={
                "Sforce-Limit-Info": standin.usage.header(),
                "Sforce-NumberOfRecords": str(len(rows)),
                "Sforce-Locator": next_locator,
            },
        )

    app.add_api_route(base, create_job, methods=["POST"])
    app.add_api_route(base + "/", create_job, methods=["POST"])
    app.add_api_route(base, list_jobs, methods=["GET"])
    app.add_api_route(base + "/{job_id}", get_job, methods=["GET"])
    app.add_api_route(base + "/{job_id}", patch_job, methods=["PATCH"])
    app.add_api_route(base + "/{job_id}", delete_job, methods=["DELETE"])
    app.add_api_route(base + "/{job_id}/results", results, methods=["GET"])
