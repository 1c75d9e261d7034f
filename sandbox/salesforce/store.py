"""SQLite storage of the stand-in's records, query cursors and record conversion.

One table per sObject (one column per stored field; datetimes as canonical UTC text, booleans as 0/1), a
``deletions`` table feeding ``/deleted/``, and in-memory query cursors: a query's matching rowids are
computed once, in result order, and each page then fetches its slice by rowid — paging a million rows never
re-runs the query or uses OFFSET.
"""

from __future__ import annotations

import json
import logging
import sqlite3
import threading
import time
from array import array
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sandbox.salesforce import ids, timefmt
from sandbox.salesforce.schema import SOBJECTS, Field, SObject

log = logging.getLogger(__name__)

API_USER_ID = ids.make_id("005", 1)  # the integration user the API sessions run as
UI_USER_ID = ids.make_id("005", 2)  # a human user editing records in the UI
ORG_ID = ids.make_id("00D", 1)

CURSOR_IDLE_SECONDS = 15 * 60
MAX_CURSORS = 100
MAX_CURSOR_ROWS = 20_000_000  # ~160 MB of rowids across open cursors


def _column_sql(fld: Field) -> str:
    if fld.type == "boolean":
        return f'"{fld.name}" INTEGER NOT NULL DEFAULT 0'
    if fld.type == "int":
        return f'"{fld.name}" INTEGER'
    if fld.type in ("double", "currency"):
        return f'"{fld.name}" REAL'
    if fld.type in ("id", "reference", "datetime", "date"):
        return f'"{fld.name}" TEXT'
    return f'"{fld.name}" TEXT COLLATE NOCASE'


def full_name(first: str | None, last: str | None) -> str | None:
    """Contact/Lead ``Name``: first and last name joined by a space."""
    parts = [p for p in (first, last) if p]
    return " ".join(parts) if parts else None


@dataclass
class Cursor:
    """An open query locator: the ordered rowids of its result."""

    locator: str
    sobject: SObject
    fields: list[Field]
    rowids: array
    endpoint: str
    batch_size: int
    last_used: float = field(default_factory=time.monotonic)


class Store:
    """The stand-in's data. Not thread-safe by itself: callers serialise through :attr:`lock`."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.lock = threading.RLock()
        self.conn = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None)
        self.conn.execute("PRAGMA journal_mode=WAL")
        self.conn.execute("PRAGMA synchronous=OFF")
        self.conn.execute("PRAGMA cache_size=-200000")
        self.conn.execute("PRAGMA temp_store=MEMORY")
        self.cursors: OrderedDict[str, Cursor] = OrderedDict()
        self._sequence = 0
        self._create_schema()

    # --- schema ----------------------------------------------------------------------------------------
    def _create_schema(self) -> None:
        with self.lock:
            for sobject in SOBJECTS.values():
                columns = ", ".join(_column_sql(f) for f in sobject.stored_fields)
                table = sobject.table
                self.conn.execute(f"CREATE TABLE IF NOT EXISTS {table} ({columns})")
                self.conn.execute(f'CREATE UNIQUE INDEX IF NOT EXISTS {table}_id ON {table} ("Id")')
                for name in ("CreatedDate", "SystemModstamp", "LastModifiedDate"):
                    self.conn.execute(
                        f'CREATE INDEX IF NOT EXISTS {table}_{name.lower()} ON {table} ("{name}", "Id")'
                    )
                if sobject.get("Email") is not None:
                    self.conn.execute(f'CREATE INDEX IF NOT EXISTS {table}_email ON {table} ("Email")')
            self.conn.execute(
                "CREATE TABLE IF NOT EXISTS deletions (sobject TEXT NOT NULL, id TEXT NOT NULL, "
                "deleted_date TEXT NOT NULL, PRIMARY KEY (sobject, id))"
            )
            self.conn.execute(
                "CREATE INDEX IF NOT EXISTS deletions_date ON deletions (sobject, deleted_date)"
            )
            self.conn.execute(
                "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL)"
            )
            row = self.conn.execute("SELECT value FROM meta WHERE key = 'sequence'").fetchone()
            self._sequence = int(row[0]) if row else 1000

    def wipe(self) -> None:
        """Delete every record, deletion entry and cursor (the schema and id sequence stay)."""
        with self.lock:
            self.conn.execute("BEGIN")
            for sobject in SOBJECTS.values():
                self.conn.execute(f"DELETE FROM {sobject.table}")
            self.conn.execute("DELETE FROM deletions")
            self.conn.execute("COMMIT")
            self.cursors.clear()

    def next_id(self, prefix: str) -> str:
        """A new 18-char id with ``prefix``; the sequence survives restarts on the same data dir."""
        with self.lock:
            self._sequence += 1
            self.conn.execute(
                "INSERT INTO meta (key, value) VALUES ('sequence', ?) "
                "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                (self._sequence,),
            )
            return ids.make_id(prefix, self._sequence)

    def _reserve_ids(self, count: int) -> int:
        with self.lock:
            first = self._sequence + 1
            self._sequence += count
            self.conn.execute(
                "INSERT INTO meta (key, value) VALUES ('sequence', ?) "
                "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                (self._sequence,),
            )
            return first

    # --- loading ---------------------------------------------------------------------------------------
    def load(self, sobject: SObject, records: Iterable[dict[str, Any]], *, replace: bool = True) -> list[str]:
        """Insert records as given (admin load; audit fields may be set). Returns their ids in input order.

        Unknown keys raise ``ValueError``; ``Id`` is assigned when absent; ``Name`` is computed for Contact
        and Lead; ``SystemModstamp`` defaults to ``LastModifiedDate`` which defaults to ``CreatedDate`` (now).
        An existing record with the same Id is replaced when ``replace`` is true.
        """
        stored = sobject.stored_fields
        names = [f.name for f in stored]
        converters = [(f.name, loader(f)) for f in stored]
        compound = {f.name: f for f in sobject.fields if f.type == "address"}
        known = {f.name for f in sobject.fields} | {"attributes"}
        default_values = _defaults(sobject)
        computed_name = sobject.name in ("Contact", "Lead")
        now = timefmt.fmt(timefmt.now())
        rows: list[tuple[Any, ...]] = []
        deletions: list[tuple[str, str, str]] = []
        loaded_ids: list[str] = []
        batch = list(records)
        sequence = self._reserve_ids(len(batch))
        for position, record in enumerate(batch):
            unknown = [k for k in record if k not in known]
            if unknown:
                raise ValueError(f"unknown {sobject.name} field(s) {sorted(unknown)} in record {position}")
            values = dict(record)
            for cname, cfield in compound.items():
                address = values.pop(cname, None)
                if isinstance(address, dict):
                    for key, component in cfield.components:
                        if component and values.get(component) is None and address.get(key) is not None:
                            values[component] = address[key]
            row: dict[str, Any] = {}
            for name, convert in converters:
                raw = values.get(name)
                row[name] = convert(raw) if raw is not None else None
            for name, default in default_values.items():
                if row.get(name) is None:
                    row[name] = default
            if row["Id"] is None:
                row["Id"] = ids.make_id(sobject.key_prefix, sequence + position)
            elif not ids.has_prefix(row["Id"], sobject.name):
                raise ValueError(f"record {position}: Id {row['Id']} does not have the {sobject.name} prefix")
            if computed_name:
                row["Name"] = full_name(row.get("FirstName"), row.get("LastName"))
            row["CreatedDate"] = row["CreatedDate"] or now
            row["LastModifiedDate"] = row["LastModifiedDate"] or row["CreatedDate"]
            row["SystemModstamp"] = row["SystemModstamp"] or max(row["LastModifiedDate"], row["CreatedDate"])
            row["CreatedById"] = row["CreatedById"] or API_USER_ID
            row["LastModifiedById"] = row["LastModifiedById"] or row["CreatedById"]
            row["OwnerId"] = row["OwnerId"] or row["CreatedById"]
            if row["IsDeleted"]:
                deletions.append((sobject.name, row["Id"], row["SystemModstamp"]))
            rows.append(tuple(row[n] for n in names))
            loaded_ids.append(row["Id"])
        column_list = ", ".join(f'"{n}"' for n in names)
        marks = ", ".join("?" for _ in names)
        verb = "INSERT OR REPLACE" if replace else "INSERT"
        with self.lock:
            self.conn.execute("BEGIN")
            try:
                self.conn.executemany(f"{verb} INTO {sobject.table} ({column_list}) VALUES ({marks})", rows)
                self.conn.executemany(
                    "INSERT OR REPLACE INTO deletions (sobject, id, deleted_date) VALUES (?, ?, ?)", deletions
                )
            except Exception:
                self.conn.execute("ROLLBACK")
                raise
            self.conn.execute("COMMIT")
        return loaded_ids

    # --- single records --------------------------------------------------------------------------------
    def get_row(self, sobject: SObject, record_id: str) -> dict[str, Any] | None:
        """The stored row of ``record_id`` as a dict (``None`` when it does not exist, deleted rows included)."""
        names = [f.name for f in sobject.stored_fields]
        with self.lock:
            row = self.conn.execute(
                f'SELECT {", ".join(chr(34) + n + chr(34) for n in names)} FROM {sobject.table} WHERE "Id" = ?',
                (record_id,),
            ).fetchone()
        return dict(zip(names, row, strict=True)) if row else None

    def update_row(self, sobject: SObject, record_id: str, values: dict[str, Any]) -> None:
        """Write stored values (already validated/converted) to one row."""
        if not values:
            return
        assignments = ", ".join(f'"{name}" = ?' for name in values)
        with self.lock:
            self.conn.execute(
                f'UPDATE {sobject.table} SET {assignments} WHERE "Id" = ?', (*values.values(), record_id)
            )

    def apply_updates(self, sobject: SObject, updates: list[tuple[str, dict[str, Any]]]) -> None:
        """Write several rows in one transaction."""
        with self.lock:
            self.conn.execute("BEGIN")
            try:
                for record_id, values in updates:
                    self.update_row(sobject, record_id, values)
            except Exception:
                self.conn.execute("ROLLBACK")
                raise
            self.conn.execute("COMMIT")

    def soft_delete(self, sobject: SObject, record_id: str, at: str, master_id: str | None = None) -> None:
        """Move a record to the recycle bin (``IsDeleted``), recording the deletion for ``/deleted/``."""
        values: dict[str, Any] = {"IsDeleted": 1, "SystemModstamp": at}
        if master_id is not None:
            values["MasterRecordId"] = master_id
        with self.lock:
            self.update_row(sobject, record_id, values)
            self.conn.execute(
                "INSERT OR REPLACE INTO deletions (sobject, id, deleted_date) VALUES (?, ?, ?)",
                (sobject.name, record_id, at),
            )

    def deleted_between(self, sobject: SObject, start: str, end: str) -> list[tuple[str, str]]:
        with self.lock:
            return self.conn.execute(
                "SELECT id, deleted_date FROM deletions WHERE sobject = ? AND deleted_date >= ? "
                "AND deleted_date < ? ORDER BY deleted_date, id",
                (sobject.name, start, end),
            ).fetchall()

    def updated_between(self, sobject: SObject, start: str, end: str) -> list[str]:
        with self.lock:
            rows = self.conn.execute(
                f'SELECT "Id" FROM {sobject.table} WHERE "SystemModstamp" >= ? AND "SystemModstamp" < ? '
                'AND "IsDeleted" = 0 ORDER BY "SystemModstamp", "Id"',
                (start, end),
            ).fetchall()
        return [r[0] for r in rows]

    def count(self, sobject: SObject) -> int:
        with self.lock:
            return int(self.conn.execute(f"SELECT count(*) FROM {sobject.table}").fetchone()[0])

    # --- queries ---------------------------------------------------------------------------------------
    def execute_ids(self, sql: str, params: list[Any]) -> array:
        """Run a ``SELECT rowid`` query and keep the rowids compactly."""
        with self.lock:
            result = array("q")
            cursor = self.conn.execute(sql, params)
            while True:
                chunk = cursor.fetchmany(50_000)
                if not chunk:
                    break
                result.extend(r[0] for r in chunk)
            return result

    def scalar(self, sql: str, params: list[Any]) -> int:
        with self.lock:
            return int(self.conn.execute(sql, params).fetchone()[0])

    def open_cursor(
        self, sobject: SObject, fields: list[Field], rowids: array, endpoint: str, batch_size: int
    ) -> Cursor:
        with self.lock:
            self._expire_cursors()
            locator = ids.make_id("01g", self._sequence_for_locator(), pod="RO")
            cursor = Cursor(locator, sobject, fields, rowids, endpoint, batch_size)
            self.cursors[locator] = cursor
            while len(self.cursors) > MAX_CURSORS or (
                len(self.cursors) > 1 and sum(len(c.rowids) for c in self.cursors.values()) > MAX_CURSOR_ROWS
            ):
                self.cursors.popitem(last=False)
            return cursor

    def _sequence_for_locator(self) -> int:
        self._locator_seq = getattr(self, "_locator_seq", 0) + 1
        return self._locator_seq

    def get_cursor(self, locator: str) -> Cursor | None:
        with self.lock:
            self._expire_cursors()
            cursor = self.cursors.get(locator)
            if cursor is not None:
                cursor.last_used = time.monotonic()
                self.cursors.move_to_end(locator)
            return cursor

    def close_cursor(self, locator: str) -> None:
        with self.lock:
            self.cursors.pop(locator, None)

    def _expire_cursors(self) -> None:
        limit = time.monotonic() - CURSOR_IDLE_SECONDS
        for locator in [k for k, c in self.cursors.items() if c.last_used < limit]:
            del self.cursors[locator]

    def fetch_rows(
        self, sobject: SObject, columns: list[str], rowids: Iterable[int]
    ) -> list[tuple[Any, ...]]:
        """Rows (``columns`` of them) for ``rowids``, in the order of ``rowids``; vanished rows are skipped."""
        wanted = list(rowids)
        if not wanted:
            return []
        column_sql = ", ".join(f'"{c}"' for c in columns)
        with self.lock:
            fetched = self.conn.execute(
                f"SELECT rowid, {column_sql} FROM {sobject.table} WHERE rowid IN (SELECT value FROM json_each(?))",
                (json.dumps(wanted),),
            ).fetchall()
        by_rowid = {row[0]: row[1:] for row in fetched}
        return [by_rowid[r] for r in wanted if r in by_rowid]

    def iter_rows(
        self, sobject: SObject, columns: list[str], rowids: array, chunk: int = 5000
    ) -> Iterator[tuple[Any, ...]]:
        for start in range(0, len(rowids), chunk):
            yield from self.fetch_rows(sobject, columns, rowids[start : start + chunk])


def _defaults(sobject: SObject) -> dict[str, Any]:
    values: dict[str, Any] = {"IsDeleted": 0}
    if sobject.name == "Lead":
        values.update({"Status": "Open - Not Contacted", "IsConverted": 0})
    return values


def _to_bool(value: Any) -> int:
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int | float):
        return int(bool(value))
    text = str(value).strip().lower()
    if text in ("true", "1", "yes"):
        return 1
    if text in ("false", "0", "no", ""):
        return 0
    raise ValueError(f"not a boolean: {value!r}")


def _to_id(value: Any) -> str | None:
    if value == "":
        return None
    normal = ids.to18(str(value))
    if normal is None:
        raise ValueError(f"malformed id: {value!r}")
    return normal


def _to_text(value: Any) -> str | None:
    text = str(value)
    return text if text != "" else None


def _to_date(value: Any) -> str | None:
    if value == "":
        return None
    import datetime as dt

    return dt.date.fromisoformat(str(value)[:10]).isoformat()


def _to_number(kind: str) -> Callable[[Any], Any]:
    def convert(value: Any) -> Any:
        if value == "":
            return None
        return int(value) if kind == "int" else float(value)

    return convert


def loader(fld: Field) -> Callable[[Any], Any]:
    """A converter from loader input (JSON value or CSV text) to the stored representation."""
    if fld.type == "datetime":
        return timefmt.canonical
    if fld.type == "boolean":
        return _to_bool
    if fld.type in ("id", "reference"):
        return _to_id
    if fld.type == "date":
        return _to_date
    if fld.type in ("int", "double", "currency"):
        return _to_number(fld.type)
    return _to_text
