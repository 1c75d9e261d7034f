"""Bulk API 2.0 query jobs, read as a generator of records shaped exactly like REST query records.

Bulk results are CSV: every value is text and nulls are empty. The reader converts each column with the
object's describe types (booleans, numbers, datetimes in REST's ``+0000`` form, empty -> None) so that callers
cannot tell which path a window took.
"""

from __future__ import annotations

import csv
import io
import time
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

    from hooks.salesforce import SalesforceContactsHook

FINAL_STATES = {"JobComplete", "Failed", "Aborted"}


def _bool(text: str) -> bool:
    return text.lower() == "true"


def _number(text: str) -> float:
    return float(text)


def _integer(text: str) -> int:
    return int(float(text))


def _datetime(text: str) -> str:
    # Bulk: 2024-05-20T20:49:32.000Z ; REST: 2024-05-20T20:49:32.000+0000
    return text[:-1] + "+0000" if text.endswith("Z") else text


CONVERTERS: dict[str, Callable[[str], Any]] = {
    "boolean": _bool,
    "int": _integer,
    "double": _number,
    "currency": _number,
    "percent": _number,
    "datetime": _datetime,
}


class BulkQueryError(RuntimeError):
    """The Bulk API 2.0 job failed or was aborted."""


class BulkQueryReader:
    """
    Runs one Bulk API 2.0 query job through the hook (so auth, retries and the budget apply) and yields records.

    :param hook: the Salesforce hook making the calls.
    :param sobject: queried object (for messages).
    :param field_types: describe types by field name, for converting CSV text.
    :param max_records: rows per results page (memory is bounded by one page).
    """

    def __init__(
        self,
        hook: SalesforceContactsHook,
        *,
        sobject: str,
        field_types: dict[str, str],
        max_records: int = 50_000,
        poll_interval: float = 0.2,
        max_poll_interval: float = 5.0,
        job_timeout: float = 3600.0,
    ) -> None:
        self.hook = hook
        self.sobject = sobject
        self.field_types = field_types
        self.max_records = max_records
        self.poll_interval = poll_interval
        self.max_poll_interval = max_poll_interval
        self.job_timeout = job_timeout
        self.pages = 0

    def read(self, soql: str, *, include_deleted: bool = False) -> Iterator[dict[str, Any]]:
        job = self.hook.request(
            "POST",
            "jobs/query",
            json={
                "operation": "queryAll" if include_deleted else "query",
                "query": soql,
                "contentType": "CSV",
                "columnDelimiter": "COMMA",
                "lineEnding": "LF",
            },
        ).json()
        job_id = job["id"]
        self._wait(job_id)
        locator: str | None = None
        while True:
            params: dict[str, Any] = {"maxRecords": self.max_records}
            if locator:
                params["locator"] = locator
            response = self.hook.request(
                "GET", f"jobs/query/{job_id}/results", params=params, headers={"Accept": "text/csv"}
            )
            self.pages += 1
            yield from self._records(response.content.decode("utf-8"))
            locator = response.headers.get("Sforce-Locator")
            if not locator or locator == "null":
                break
        self.hook.log.info("Salesforce: Bulk API 2.0 job %s read in %d result pages", job_id, self.pages)

    def _wait(self, job_id: str) -> None:
        delay = self.poll_interval
        deadline = time.monotonic() + self.job_timeout
        while True:
            info = self.hook.request("GET", f"jobs/query/{job_id}").json()
            state = info.get("state")
            if state == "JobComplete":
                return
            if state in FINAL_STATES:
                raise BulkQueryError(
                    f"Bulk API 2.0 query job {job_id} on {self.sobject} ended {state}: "
                    f"{info.get('errorMessage') or 'no message'}"
                )
            if time.monotonic() > deadline:
                raise BulkQueryError(
                    f"Bulk API 2.0 query job {job_id} not complete after {self.job_timeout:.0f}s"
                )
            time.sleep(delay)
            delay = min(self.max_poll_interval, delay * 2)

    def _records(self, text: str) -> Iterator[dict[str, Any]]:
        reader = csv.reader(io.StringIO(text, newline=""))
        header = next(reader, None)
        if not header:
            return
        converters = [CONVERTERS.get(self.field_types.get(name, "string")) for name in header]
        for row in reader:
            record: dict[str, Any] = {}
            for name, convert, value in zip(header, converters, row, strict=True):
                if value == "":
                    record[name] = None
                elif convert is None:
                    record[name] = value
                else:
                    record[name] = convert(value)
            yield record
