"""
The lookup refresh: keeps ``contacts_lookup`` (what the inbox reads) equal to Salesforce, and mirrors the display
fields into respond.io custom fields of synced contacts.

- ``incremental`` (every minute): every Contact whose ``SystemModstamp`` lies in ``[watermark - overlap, run end)``
  is read with ``queryAll``; live rows are upserted, deleted rows and merged-away losers (deleted, with
  ``MasterRecordId``) are removed; then the watermark moves to the run's end. The watermark means "every
  Salesforce change up to T is applied". With no watermark yet, the first run is a full load.
- ``full``: the same from the beginning of time (Bulk API 2.0 takes over for big tables).
- ``reconcile``: compares the whole table with Salesforce (Ids and ``SystemModstamp``), deletes rows Salesforce no
  longer has, re-reads missing or stale ones by Id. Upserts and deletes go in batches; the table never goes offline.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from functools import cached_property
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from collections.abc import Iterator, Mapping, Sequence

    from hooks.salesforce import SalesforceContactsHook
    from sqlalchemy.engine import Engine

    from contact_sync.settings import Settings

log = logging.getLogger(__name__)

Mode = Literal["incremental", "full", "reconcile"]
BEGINNING = datetime(2000, 1, 1, tzinfo=UTC)
BATCH = 20_000  # rows per upsert round (the lookup store batches its statements itself)


def mirror_slug(prefix: str, field: str) -> str:
    """respond.io custom field slug for a Salesforce field: ``sf_`` + letters/digits/underscores, ≤ 50."""
    cleaned = "".join(ch if ch.isalnum() or ch == "_" else "_" for ch in field.lower())
    return (prefix + cleaned)[:50]


class LookupRefreshJob:
    """
    One refresh of the lookup table.

    :param settings: contact-sync settings (display fields, overlap, connections, mirror switch).
    :param run_end: the end of what this run applies (the DAG run's data interval end).
    :param mode: ``incremental``, ``full`` or ``reconcile``.
    """

    def __init__(self, settings: Settings, *, run_end: datetime, mode: Mode = "incremental") -> None:
        self.settings = settings
        self.run_end = run_end
        self.mode = mode

    @cached_property
    def engine(self) -> Engine:
        from hooks.state_db import StateDbHook

        return StateDbHook(state_db_conn_id=self.settings.state_db_conn_id).engine

    @cached_property
    def salesforce(self) -> SalesforceContactsHook:
        from hooks.salesforce import SalesforceContactsHook

        return SalesforceContactsHook(
            self.settings.salesforce_conn_id,
            consumer="refresh",
            state_db_conn_id=self.settings.state_db_conn_id,
        )

    @property
    def fields(self) -> tuple[str, ...]:
        from contact_sync.lookup import KEY_FIELDS

        return tuple(dict.fromkeys((*KEY_FIELDS, "FirstName", "LastName", *self.settings.display_fields)))

    # -- incremental / full ---------------------------------------------------------------------------

    def run(self) -> dict[str, Any]:
        from contact_sync.state import lookup_store

        if self.mode == "reconcile":
            return self.reconcile()
        watermark = lookup_store.get_watermark(self.engine)
        full = self.mode == "full" or watermark is None
        start = BEGINNING if full else watermark - timedelta(seconds=self.settings.refresh_overlap_seconds)
        if start >= self.run_end:
            return {
                "mode": self.mode,
                "applied": 0,
                "watermark": watermark.isoformat() if watermark else None,
            }
        records = self.salesforce.stream_window(
            start, self.run_end, cursor="SystemModstamp", fields=self.fields, include_deleted=True,
            bulk_threshold=None,
        )  # fmt: skip
        upserted, deleted, changed = self._apply(records)
        lookup_store.set_watermark(
            self.engine,
            self.run_end,
            details={"mode": "full" if full else "incremental", "upserted": upserted},
        )
        mirrored = self.mirror(changed) if self.settings.mirror_to_respond_io and changed else {}
        summary = {
            "mode": "full" if full else "incremental",
            "window": [start.isoformat(), self.run_end.isoformat()],
            "upserted": upserted,
            "deleted": deleted,
            "mirrored": mirrored,
            "watermark": self.run_end.isoformat(),
        }
        log.info("lookup refresh: %s", summary)
        return summary

    def _apply(self, records: Iterator[dict[str, Any]]) -> tuple[int, int, list[str]]:
        """Upsert live rows, delete deleted/merged ones, in batches; returns counts and the changed live Ids."""
        from contact_sync.lookup import lookup_row
        from contact_sync.state import lookup_store, sync_store

        upserted = deleted = 0
        changed: list[str] = []
        for batch in sync_store.batches(records, BATCH):
            gone = [r["Id"] for r in batch if r.get("IsDeleted")]
            live = [
                lookup_row(
                    r,
                    display_fields=self.settings.display_fields,
                    default_region=self.settings.default_region,
                )
                for r in batch
                if not r.get("IsDeleted")
            ]
            upserted += sync_store.upsert_lookup(self.engine, live)
            deleted += lookup_store.delete_lookup_rows(self.engine, gone)
            changed += [row["sf_id"] for row in live]
            log.info("lookup refresh: %s upserted, %s deleted so far", upserted, deleted)
        return upserted, deleted, changed

    # -- reconcile -------------------------------------------------------------------------------------

    def reconcile(self) -> dict[str, Any]:
        """Repair drift between the table and Salesforce without taking the table offline."""
        from contact_sync.state import lookup_store

        in_salesforce: dict[str, str] = {
            r["Id"]: r["SystemModstamp"]
            for r in self.salesforce.stream_window(
                BEGINNING, self.run_end, cursor="SystemModstamp", fields=("Id", "SystemModstamp")
            )
        }
        from contact_sync.lookup import parse_salesforce_datetime

        stale: list[str] = []
        extra: list[str] = []
        seen: set[str] = set()
        for sf_id, stamp in lookup_store.lookup_modstamps(self.engine):
            seen.add(sf_id)
            remote = in_salesforce.get(sf_id)
            if remote is None:
                extra.append(sf_id)
            elif stamp is None or parse_salesforce_datetime(remote) != stamp:
                stale.append(sf_id)
        missing = [sf_id for sf_id in in_salesforce if sf_id not in seen]
        deleted = lookup_store.delete_lookup_rows(self.engine, extra)
        upserted, _, changed = self._apply(
            self.salesforce.records_by_id([*missing, *stale], fields=self.fields)
        )
        summary = {
            "mode": "reconcile",
            "salesforce_rows": len(in_salesforce),
            "table_rows_before": len(seen),
            "missing": len(missing),
            "stale": len(stale),
            "extra": len(extra),
            "upserted": upserted,
            "deleted": deleted,
        }
        log.info("lookup reconcile: %s", summary)
        return summary

    # -- mirror into respond.io -----------------------------------------------------------------------

    def mirror(self, sf_ids: Sequence[str]) -> dict[str, int]:
        """Write changed display fields into respond.io custom fields of synced contacts (ledger records them)."""
        from hooks.respond_io import RespondIoHook
        from hooks.respond_io_identifiers import contact_identifier
        from hooks.respond_io_pipeline import ContactPipeline

        from contact_sync.state import sync_store

        counts: dict[str, int] = {}
        rows = {r["sf_id"]: r for r in sync_store.lookup_rows(self.engine, sf_ids)}
        slugs = {
            field: mirror_slug(self.settings.mirror_field_prefix, field)
            for field in self.settings.display_fields
        }
        for workspace in self.settings.workspaces:
            targets = []
            for ledger in sync_store.ledger_for(self.engine, workspace, list(rows)):
                wanted = {slugs[f]: _text(rows[ledger["sf_id"]]["fields"].get(f)) for f in slugs}
                written = dict((ledger["written_fields"] or {}).get("mirror") or {})
                changes = {slug: value for slug, value in wanted.items() if written.get(slug) != value}
                if changes and ledger["respond_io_contact_id"]:
                    targets.append((ledger, changes, {**written, **changes}))
            if not targets:
                continue
            hook = RespondIoHook(respond_io_conn_id=workspace)
            for field, slug in slugs.items():
                hook.ensure_custom_field(slug, name=f"Salesforce {field}"[:50]).raise_for_error()

            def write(
                target: tuple[Mapping[str, Any], dict[str, str], dict[str, str]], hook: Any = hook
            ) -> Any:
                ledger, changes, _ = target
                fields = {
                    "custom_fields": [{"name": slug, "value": value} for slug, value in changes.items()]
                }
                return hook.update_contact(contact_identifier("id", ledger["respond_io_contact_id"]), fields)

            written_count = 0
            for item in ContactPipeline(hook).map(write, targets):
                if item.ok:
                    ledger, _, merged = item.item
                    sync_store.record_mirror(self.engine, workspace, ledger["sf_id"], merged)
                    written_count += 1
                else:
                    log.warning("mirror to respond.io failed for %s: %s", item.item[0]["sf_id"], item.message)
            counts[workspace] = written_count
        return counts


def _text(value: Any) -> str:
    return "" if value is None else str(value)
