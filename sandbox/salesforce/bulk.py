"""Bulk API 2.0 query jobs: the result is computed when the job is created (as rowids, like a query
cursor), the job reports ``InProgress`` for ``bulk_job_ms`` and then ``JobComplete``; results are served as
CSV pages with ``Sforce-NumberOfRecords`` and ``Sforce-Locator`` (``null`` on the last page).
"""

from __future__ import annotations

import base64
import csv
import io
import threading
import time
from array import array
from dataclasses import dataclass, field
from typing import Any

from sandbox.salesforce import ids, timefmt
from sandbox.salesforce.errors import SalesforceError
from sandbox.salesforce.records import RecordShape

DELIMITERS = {"COMMA": ",", "TAB": "\t", "PIPE": "|", "SEMICOLON": ";", "CARET": "^", "BACKQUOTE": "`"}
LINE_ENDINGS = {"LF": "\n", "CRLF": "\r\n"}
DEFAULT_MAX_RECORDS = 50_000


@dataclass
class QueryJob:
    id: str
    operation: str
    object: str
    query: str
    api_version: str
    created_by: str
    created_date: str
    column_delimiter: str
    line_ending: str
    shape: RecordShape | None
    rowids: array
    error: str | None = None
    aborted: bool = False
    system_modstamp: str = ""
    created_at: float = field(default_factory=time.monotonic)

    def state(self, delay_ms: float) -> str:
        if self.aborted:
            return "Aborted"
        if self.error:
            return "Failed"
        if (time.monotonic() - self.created_at) * 1000 < delay_ms:
            return "InProgress"
        return "JobComplete"

    def info(self, delay_ms: float, *, created: bool = False) -> dict[str, Any]:
        state = "UploadComplete" if created else self.state(delay_ms)
        body: dict[str, Any] = {
            "id": self.id,
            "operation": self.operation,
            "object": self.object,
            "createdById": self.created_by,
            "createdDate": self.created_date,
            "systemModstamp": self.system_modstamp or self.created_date,
            "state": state,
            "concurrencyMode": "Parallel",
            "contentType": "CSV",
            "apiVersion": float(self.api_version),
            "jobType": "V2Query",
            "lineEnding": self.line_ending,
            "columnDelimiter": self.column_delimiter,
        }
        if not created:
            done = state == "JobComplete"
            body.update(
                {
                    "numberRecordsProcessed": len(self.rowids) if done else 0,
                    "retries": 0,
                    "totalProcessingTime": 1 if done else 0,
                    "isPkChunkingSupported": True,
                }
            )
            if self.error:
                body["errorMessage"] = self.error
        return body


class QueryJobs:
    """The query jobs of this stand-in (kept in memory until deleted or reset)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.jobs: dict[str, QueryJob] = {}
        self._seq = 0

    def new_id(self) -> str:
        with self._lock:
            self._seq += 1
            return ids.make_id("750", self._seq, pod="RO")

    def add(self, job: QueryJob) -> None:
        with self._lock:
            self.jobs[job.id] = job

    def get(self, job_id: str) -> QueryJob:
        normal = ids.to18(job_id) or job_id
        with self._lock:
            job = self.jobs.get(normal)
        if job is None:
            raise SalesforceError(404, "NOT_FOUND", "The requested resource does not exist")
        return job

    def delete(self, job_id: str) -> None:
        job = self.get(job_id)
        with self._lock:
            self.jobs.pop(job.id, None)

    def clear(self) -> None:
        with self._lock:
            self.jobs.clear()

    def list(self) -> list[QueryJob]:
        with self._lock:
            return list(self.jobs.values())


def encode_locator(position: int) -> str:
    return base64.b64encode(str(position).encode()).decode().rstrip("=")


def decode_locator(locator: str) -> int:
    try:
        padded = locator + "=" * (-len(locator) % 4)
        return int(base64.b64decode(padded).decode())
    except (ValueError, UnicodeDecodeError) as exc:
        raise SalesforceError(400, "INVALIDLOCATOR", f"Invalid locator: {locator}") from exc


def render_csv(job: QueryJob, rows: list[tuple[Any, ...]]) -> str:
    """Header row plus ``rows`` as CSV with every value quoted (nulls as empty fields)."""
    assert job.shape is not None
    buffer = io.StringIO()
    writer = csv.writer(
        buffer,
        delimiter=DELIMITERS[job.column_delimiter],
        lineterminator=LINE_ENDINGS[job.line_ending],
        quoting=csv.QUOTE_ALL,
    )
    writer.writerow([f.name for f in job.shape.fields])
    writer.writerows(job.shape.to_csv(row) for row in rows)
    return buffer.getvalue()


def now_stamp() -> str:
    return timefmt.fmt(timefmt.now())
