"""
The steps of the contact sync, called by the tasks of ``salesforce_contacts_sync`` and the backfill DAG.

Each step reads and writes the state DB and hands the next step only the run key (``<dag_id>/<run_id>``):

1. :meth:`ContactSyncJob.extract` reads the window's Contacts (and Leads when configured) from Salesforce, plus
   contacts with open failures whose ``SystemModstamp`` changed, into ``staged_contacts``;
2. :meth:`ContactSyncJob.classify` normalises and classifies them, skips what the ledger already holds, assigns
   key ownership, validates the rows to write (Great Expectations) and splits them into chunks;
3. :meth:`ContactSyncJob.sync_chunk` (a mapped task per chunk) claims the chunk's contacts in leased batches
   (several workers may share a chunk; a dead worker's rows are taken over when its lease expires), finds or
   creates each contact in respond.io, writes the Salesforce Id custom field and tags it, recording each
   contact's outcome as it finishes;
4. :meth:`ContactSyncJob.finalize` records failures for analysts, upserts lookup rows and the run summary.

Every contact read ends in exactly one outcome (``contact_sync.state.sync_store.OUTCOMES``).
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from contact_sync.settings import PROJECT_DIR, Settings

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Iterator, Mapping

    from hooks.respond_io import RespondIoHook
    from hooks.salesforce import SalesforceContactsHook
    from sqlalchemy.engine import Engine

log = logging.getLogger(__name__)

#: Great Expectations Data Docs of the validation step; ``CONTACT_SYNC_REPORTS_DIR`` moves them (a volume shared
#: by the workers in a container deployment, where the installed package's folder is lost with the container).
REPORTS_DIR = PROJECT_DIR / "var" / "validation-reports"


class SyncSystemError(RuntimeError):
    """A systemic failure (auth, a service down, a bug): the task fails and its retry resumes the work."""


@dataclass(frozen=True)
class RunParams:
    """The DAG params that change a run's behaviour."""

    include_bulk_imports: bool = False
    tag: str = "Auto-create: Salesforce"
    bulk_import_tag: str = ""
    default_region: str = "US"
    dry_run: bool = False

    @classmethod
    def from_params(cls, params: Mapping[str, Any], settings: Settings) -> RunParams:
        return cls(
            include_bulk_imports=bool(params.get("include_bulk_imports", False)),
            tag=str(params.get("tag") or settings.tag),
            bulk_import_tag=str(params.get("bulk_import_tag") or settings.bulk_import_tag or ""),
            default_region=str(params.get("default_region") or settings.default_region),
            dry_run=bool(params.get("dry_run", False)),
        )


class Progress:
    """Log ``done / total``, rate and extra facts at most every ``every`` seconds."""

    def __init__(self, what: str, total: int | None, every: float = 10.0) -> None:
        self.what, self.total, self.every = what, total, every
        self.started = self.last = time.monotonic()
        self.done = 0

    def step(self, n: int = 1, extra: str = "") -> None:
        self.done += n
        now = time.monotonic()
        if now - self.last >= self.every:
            self.last = now
            self.log(extra)

    def log(self, extra: str = "") -> None:
        elapsed = max(time.monotonic() - self.started, 1e-9)
        total = f"/{self.total:,}" if self.total is not None else ""
        log.info(
            "%s: %s%s done, %.0f/s%s",
            self.what,
            f"{self.done:,}",
            total,
            self.done / elapsed,
            f", {extra}" if extra else "",
        )


class ContactSyncJob:
    """
    One run of the sync for one respond.io workspace.

    :param settings: contact-sync settings (``contact_sync.settings.load_settings()``).
    :param dag_id: the DAG, for the run key and the runs table.
    :param run_id: the DAG run.
    :param workspace: the respond.io connection id of the workspace.
    :param window_start: start of the run's data interval (inclusive).
    :param window_end: end of the data interval (exclusive).
    :param params: the run's :class:`RunParams`.
    """

    def __init__(
        self,
        settings: Settings,
        *,
        dag_id: str,
        run_id: str,
        workspace: str,
        window_start: datetime,
        window_end: datetime,
        params: RunParams,
    ) -> None:
        self.settings = settings
        self.dag_id = dag_id
        self.run_id = run_id
        self.workspace = workspace
        self.window_start = window_start
        self.window_end = window_end
        self.params = params
        self.run_key = f"{dag_id}/{run_id}"

    # -- wiring ----------------------------------------------------------------------------------------

    @cached_property
    def engine(self) -> Engine:
        from hooks.state_db import StateDbHook

        return StateDbHook(state_db_conn_id=self.settings.state_db_conn_id).engine

    @cached_property
    def salesforce(self) -> SalesforceContactsHook:
        from hooks.salesforce import SalesforceContactsHook

        return SalesforceContactsHook(
            self.settings.salesforce_conn_id, consumer="sync", state_db_conn_id=self.settings.state_db_conn_id
        )

    @cached_property
    def respond_io(self) -> RespondIoHook:
        from hooks.respond_io import RespondIoHook

        return RespondIoHook(respond_io_conn_id=self.workspace)

    # -- 1. extract ------------------------------------------------------------------------------------

    def extract(self) -> dict[str, Any]:
        """Stage the window's records and the changed contacts with open failures; returns counts."""
        from hooks.salesforce import parse_salesforce_datetime

        from contact_sync.state import sync_store

        self._check_state_db()
        sync_store.start_run(
            self.engine, dag_id=self.dag_id, run_id=self.run_id, workspace=self.workspace,
            window_start=self.window_start, window_end=self.window_end,
            details={"params": self.params.__dict__, "overlap_seconds": self.settings.overlap_seconds},
        )  # fmt: skip
        overlap = timedelta(seconds=self.settings.overlap_seconds)
        staged: Counter[str] = Counter()
        from hooks.salesforce import CONTACT_FIELDS, LEAD_FIELDS

        shown = self.settings.display_fields  # read too, for the lookup rows this run writes
        contact_fields = tuple(dict.fromkeys((*CONTACT_FIELDS, *shown)))
        sobjects = [("Contact", contact_fields)]
        if self.settings.include_leads:
            lead_shown = [f for f in shown if not f.startswith("Mailing")]
            sobjects.append(("Lead", tuple(dict.fromkeys((*LEAD_FIELDS, *lead_shown)))))
        for sobject, fields in sobjects:
            records = self.salesforce.stream_window(
                self.window_start, self.window_end, sobject=sobject, fields=fields, overlap=overlap
            )
            progress = Progress(f"extract {sobject}", None)
            staged[sobject] += sync_store.stage_records(
                self.engine, self.run_key, self.workspace, sobject,
                self._counted(records, progress), parse_salesforce_datetime,
            )  # fmt: skip
            progress.log(self._budget_left())
        # Contacts with open failures that changed in Salesforce since (an analyst's fix flows through).
        open_ids = sync_store.open_failure_ids(self.engine, self.workspace)
        reread = 0
        if open_ids:
            changed = (
                record
                for record in self.salesforce.stream_window(
                    self.window_start,
                    self.window_end,
                    cursor="SystemModstamp",
                    fields=contact_fields,
                    overlap=overlap,
                )  # fmt: skip
                if record["Id"] in open_ids
            )
            reread = sync_store.stage_records(
                self.engine, self.run_key, self.workspace, "Contact", changed, parse_salesforce_datetime
            )
        # Contacts whose respond.io write failed transiently last time are tried again by every run.
        pending = sync_store.retry_pending_ids(self.engine, self.workspace)
        retried = sync_store.stage_records(
            self.engine, self.run_key, self.workspace, "Contact",
            self.salesforce.records_by_id(pending, fields=contact_fields), parse_salesforce_datetime,
        ) if pending else 0  # fmt: skip
        result = {
            "run_key": self.run_key,
            "staged": dict(staged),
            "reread_open_failures": reread,
            "retried_pending": retried,
        }
        log.info("extract: %s", result)
        return result

    def _check_state_db(self) -> None:
        from airflow.sdk.exceptions import AirflowFailException
        from hooks.state_db import StateDbHook

        ok, message = StateDbHook(state_db_conn_id=self.settings.state_db_conn_id).test_connection()
        if not ok:
            raise AirflowFailException(
                f"{message} (`contact-sync state migrate`, or trigger the contact_sync_smoke DAG, migrates it)"
            )

    @staticmethod
    def _counted(records: Iterable[dict[str, Any]], progress: Progress) -> Iterable[dict[str, Any]]:
        for record in records:
            progress.step()
            yield record

    def _budget_left(self) -> str:
        usage = self.salesforce.budget_usage()
        left = usage.remaining_for_consumer
        return "Salesforce budget left: " + (f"{left:,} calls" if left is not None else "unknown yet")

    # -- 2. classify -----------------------------------------------------------------------------------

    def classify(self) -> list[int]:
        """Decide every staged contact; returns the chunk numbers that have contacts to write."""
        from contact_sync import BulkConfig, assign_ownership, classify_batch
        from contact_sync.state import sync_store

        records = [
            self._as_contact(r) for r in sync_store.staged_records(self.engine, self.run_key, self.workspace)
        ]
        lookback = self._bulk_lookback()
        classified = classify_batch(
            records,
            default_region=self.params.default_region,
            bulk=BulkConfig(
                import_users=frozenset(self.settings.import_users),
                burst_size=self.settings.burst_size,
                burst_window_seconds=float(self.settings.burst_window_seconds),
            ),
            lookback=lookback,
        )
        synced = sync_store.ledger_ids(self.engine, self.workspace, (c.sf_id for c in classified))
        to_decide = [c for c in classified if c.sf_id not in synced]
        keys = {k for c in to_decide for k in (_email_ident(c.email.key), _phone_ident(c.phone_key)) if k}
        existing = sync_store.owners(self.engine, self.workspace, keys)
        result = assign_ownership(to_decide, existing, sync_bulk_imports=self.params.include_bulk_imports)
        rows = [self._decision_row(d) for d in result.decisions]
        rows += [
            {"sf_id": c.sf_id, "action": "already_synced", "identifier": c.identifier, "email_key": c.email.key,
             "phone_key": c.phone_key, "reasons": [], "outcome": "already_synced"}
            for c in classified if c.sf_id in synced
        ]  # fmt: skip
        writable = [r for r in rows if r["action"] == "write"]
        for index, row in enumerate(writable):
            row["chunk"] = index // self.settings.chunk_size
        self._validate(result.to_write)
        if not self.params.dry_run:
            sync_store.claim_keys(self.engine, self.workspace, self.run_key, result.new_owners)
        sync_store.save_decisions(self.engine, self.run_key, self.workspace, rows)
        actions = Counter(r["action"] for r in rows)
        log.info("classify: %s contacts: %s; %s chunk(s) of up to %s to write", len(rows), dict(actions),
                 -(-len(writable) // self.settings.chunk_size), self.settings.chunk_size)  # fmt: skip
        return sorted({r["chunk"] for r in writable})

    @staticmethod
    def _as_contact(record: dict[str, Any]) -> dict[str, Any]:
        """Leads carry Country/CountryCode; the rules read the Contact names."""
        if "Country" in record and "MailingCountry" not in record:
            record = {
                **record,
                "MailingCountry": record.get("Country"),
                "MailingCountryCode": record.get("CountryCode"),
            }
        return record

    def _bulk_lookback(self) -> list[dict[str, Any]]:
        """Contacts created just before the window, so a burst straddling its start is still recognised."""
        end = self.window_start - timedelta(seconds=self.settings.overlap_seconds)
        start = end - timedelta(seconds=self.settings.burst_window_seconds)
        return list(
            self.salesforce.stream_window(
                start, end, fields=("Id", "CreatedById", "CreatedDate", "SystemModstamp")
            )
        )

    def _decision_row(self, decision: Any) -> dict[str, Any]:
        outcome = {"hold": "held_duplicate", "reject": "rejected", "skip": "skipped_bulk_import"}.get(
            decision.action
        )
        reasons = [str(r) for r in decision.reasons]
        if decision.action == "skip" and "BULK_IMPORT" not in reasons:
            outcome = "already_synced"  # an earlier copy of the same Id in this batch (window overlap)
        return {
            "sf_id": decision.sf_id,
            "action": decision.action,
            "identifier": decision.identifier,
            "email_key": decision.email_key,
            "phone_key": decision.phone_key,
            "reasons": reasons,
            "owner_id": decision.owner_id,
            "bulk_rule": str(decision.contact.bulk_rule) if decision.contact.bulk_rule else None,
            "outcome": outcome,
        }

    def _validate(self, to_write: list[Any]) -> None:
        """Run the GX suite over the rows to write; a failed expectation here is a bug in the rules."""
        if not to_write:
            return
        from contact_sync import frame_for_validation, validate_written

        name = self.run_key.replace("/", "__").replace(":", "-").replace("+", "_")
        summary = validate_written(
            frame_for_validation(to_write), data_docs_dir=reports_dir() / name, run_name=name
        )
        log.info("validation: %s", summary.as_dict())
        if not summary.success:
            from airflow.sdk.exceptions import AirflowFailException

            raise AirflowFailException(
                f"the validation suite failed on rows the rules guarantee (a bug, not bad data): {summary.as_dict()}"
            )

    # -- 3. sync one chunk -----------------------------------------------------------------------------

    def sync_chunk(
        self, chunk: int, *, try_number: int | None = None, batch_size: int | None = None
    ) -> dict[str, Any]:
        """Write one chunk's contacts to respond.io; each outcome is recorded the moment it is known.

        Several workers may work on the same chunk at once (a retry while an earlier try still runs, or after
        a worker died): rows are claimed in leased batches (``sync_store.claim_rows``), so two workers never
        write the same contact; rows another worker holds are waited for, and taken over once its lease
        (``lease_seconds``) expires.

        :param chunk: the chunk number (from :meth:`classify`).
        :param try_number: the task try, part of the lease owner (default: the running task's, else ``x``).
        :param batch_size: rows claimed at once (default ``max(50, 4 x the pipeline's width)``).
        """
        from hooks.respond_io_pipeline import ContactPipeline

        from contact_sync.state import sync_store

        total = sync_store.pending_count(self.engine, self.run_key, self.workspace, chunk)
        if not total:
            return {"chunk": chunk, "outcomes": {}}
        if not self.params.dry_run:
            self._ensure_workspace_setup()
        pipeline = ContactPipeline(self.respond_io)
        self._warn_if_limit_not_shared()
        owner = sync_store.lease_owner_for(
            self.run_id, chunk, _current_try_number() if try_number is None else try_number
        )
        work = _LeasedChunk(
            self,
            chunk,
            owner=owner,
            batch_size=batch_size or max(50, pipeline.max_in_flight * 4),
            total=total,
        )
        return work.run(pipeline)

    def _warn_if_limit_not_shared(self) -> None:
        """respond.io's limit is organisation-wide; a per-process limiter only holds it with one chunk at a time."""
        from hooks.respond_io_limits import InProcessRateLimiter

        if isinstance(self.respond_io.limiter, InProcessRateLimiter):
            log.warning(
                "respond.io limit of %s is kept by this task's process alone: chunk tasks running at once (other "
                "workers, other executor slots) each send at the full rate and together exceed the organisation's "
                "limit (429s are retried, nothing is lost, throughput suffers). With more than one task slot, set "
                "the connection extra rate_limiter_conn_id to a Redis connection or to the state DB connection "
                "contact_sync_state (README: Shared rate limit across workers).",
                self.workspace,
            )

    def _record(self, item: Any) -> str:
        """Record the pipeline's result (an ``ItemResult``) for one contact; returns its outcome."""
        from contact_sync.state import sync_store

        row = item.item
        if item.ok:
            outcome, contact_id, written = item.value
            detail = None
        else:
            outcome = "rejected" if item.error_class in {"permanent", "invalid_input"} else "retry_pending"
            contact_id, written, detail = None, None, f"{item.error_class}: {item.message}"
            if outcome == "rejected":
                row = {**row, "reasons": [*(row.get("reasons") or []), "RESPOND_IO_REJECTED"]}
                self._add_reason(row)
        sync_store.record_outcome(
            self.engine, run_key=self.run_key, workspace=self.workspace, row=row, outcome=outcome,
            detail=detail, contact_id=contact_id, written_fields=written, ledger=not self.params.dry_run,
        )  # fmt: skip
        return outcome

    def _add_reason(self, row: Mapping[str, Any]) -> None:
        from sqlalchemy import update

        from contact_sync.state.schema import staged_contacts as t

        with self.engine.begin() as connection:
            connection.execute(
                update(t)
                .where(
                    t.c.run_key == self.run_key, t.c.workspace == self.workspace, t.c.sf_id == row["sf_id"]
                )
                .values(reasons=list(row["reasons"]))
            )

    def _ensure_workspace_setup(self) -> None:
        for name in filter(None, (self.params.tag, self.params.bulk_import_tag)):
            self.respond_io.ensure_tag(name).raise_for_error()
        self.respond_io.ensure_custom_field(
            self.settings.salesforce_id_field, name="Salesforce Id"
        ).raise_for_error()

    def _sync_one(self, row: Mapping[str, Any]) -> tuple[str, int | None, dict[str, Any]]:
        """Find (by email key, then phone key) or create the contact, set the Salesforce Id field, tag it."""
        from hooks.respond_io_identifiers import contact_identifier

        hook = self.respond_io
        fields = self._fields(row)
        existing = None
        for kind, key in (("email", row.get("email_key")), ("phone", row.get("phone_key"))):
            if not key:
                continue
            found = hook.get_contact(contact_identifier(kind, key))
            if found.ok:
                existing = found.data
                break
            if not found.not_found:
                found.raise_for_error()
        if self.params.dry_run:
            return ("updated_existing" if existing else "created"), (existing or {}).get("id"), fields
        if existing is None:
            created = hook.create_or_update(row["identifier"], fields).raise_for_error()
            contact_id, outcome, written = created.contact_id, "created", fields
        tags = [self.params.tag]
        if row.get("bulk_rule") and self.params.bulk_import_tag:
            tags.append(self.params.bulk_import_tag)
        if existing is not None:
            contact_id = int(existing["id"])
            if _sf_id_of(existing, self.settings.salesforce_id_field) == row["sf_id"]:
                # Ours, from an attempt that died before recording it: finish it without repeating writes.
                outcome, written = "created", {}
                missing_tags = [t for t in tags if t not in (existing.get("tags") or [])]
                if missing_tags:
                    hook.add_tags(contact_identifier("id", contact_id), missing_tags).raise_for_error()
                return outcome, contact_id, {**fields, "tags": tags}
            outcome, written = "updated_existing", self._update_fields(existing, fields)
            if written:
                hook.update_contact(contact_identifier("id", contact_id), written).raise_for_error()
        hook.add_tags(contact_identifier("id", contact_id), tags).raise_for_error()
        return outcome, contact_id, {**written, "tags": tags}

    def _fields(self, row: Mapping[str, Any]) -> dict[str, Any]:
        """respond.io ContactFields for a staged row; keys this contact does not own are never sent."""
        from contact_sync import resolve_region

        record = row["record"]
        first, last = (record.get("FirstName") or "").strip(), (record.get("LastName") or "").strip()
        fields: dict[str, Any] = {"firstName": first or last or self.settings.first_name_placeholder}
        if first and last:
            fields["lastName"] = last
        if row.get("email_key"):
            fields["email"] = row["email_key"]
        if row.get("phone_key"):
            fields["phone"] = row["phone_key"]
        country = record.get("MailingCountryCode") or record.get("CountryCode")
        country = country or resolve_region(record.get("MailingCountry") or record.get("Country"))
        if country and len(str(country)) == 2:
            fields["countryCode"] = str(country).upper()
        fields["custom_fields"] = [{"name": self.settings.salesforce_id_field, "value": row["sf_id"]}]
        return fields

    def _update_fields(self, existing: Mapping[str, Any], fields: Mapping[str, Any]) -> dict[str, Any]:
        """What to change on a contact that already existed: our Id field, missing keys, names only if allowed."""
        update: dict[str, Any] = {"custom_fields": fields["custom_fields"]}
        for key in ("email", "phone", "countryCode"):
            if fields.get(key) and not existing.get(key):
                update[key] = fields[key]
        for key in ("firstName", "lastName"):
            if fields.get(key) and (self.settings.overwrite_names or not existing.get(key)):
                update[key] = fields[key]
        return update

    # -- 4. finalize -----------------------------------------------------------------------------------

    def finalize(self) -> dict[str, Any]:
        """Failures for analysts, lookup rows, counts; returns the run summary (small, for XCom)."""
        from contact_sync.state import sync_store

        staged = self._staged_with_results()
        failures = sync_store.record_failures(
            self.engine, self.run_key, self.workspace, staged["failure_details"]
        )
        sync_store.upsert_lookup(self.engine, staged["lookup_rows"])
        counts = sync_store.run_counts(self.engine, self.run_key, self.workspace)
        usage = self.salesforce.budget_usage()
        summary = {
            "run_key": self.run_key,
            "workspace": self.workspace,
            "window": [self.window_start.isoformat(), self.window_end.isoformat()],
            "dry_run": self.params.dry_run,
            "read": counts.read,
            "outcomes": counts.outcomes,
            "reasons": counts.reasons,
            "adds_up": counts.adds_up,
            "failures_recorded": failures,
            "salesforce_calls_24h": dict(usage.by_consumer),
            "salesforce_org_usage": [usage.org_used, usage.allocation],
        }
        status = "success" if counts.adds_up else "incomplete"
        sync_store.finish_run(
            self.engine, dag_id=self.dag_id, run_id=self.run_id, workspace=self.workspace, status=status,
            counts=counts.outcomes, details=summary,
        )  # fmt: skip
        log.info("run summary: %s", format_summary(summary))
        if not counts.adds_up:
            raise SyncSystemError(
                f"{counts.undecided} of {counts.read} contacts have no outcome: a chunk did not finish; "
                "clear the failed chunk tasks to resume"
            )
        return summary

    def _staged_with_results(self) -> dict[str, Any]:
        """Re-classify the staged rows (cheap, deterministic) for the analyst values and lookup rows."""
        from contact_sync import classify
        from contact_sync.lookup import lookup_row
        from contact_sync.state import sync_store

        details: dict[str, dict[str, Any]] = {}
        lookup_rows = []
        for record in sync_store.staged_records(self.engine, self.run_key, self.workspace):
            contact = self._as_contact(record)
            c = classify(contact, default_region=self.params.default_region)
            phone = c.phone if c.phone_field != "MobilePhone" else c.mobile
            raw_phone_result = c.phone if c.phone.verdict != "missing" else c.mobile
            details[c.sf_id] = {
                "raw_email": contact.get("Email"),
                "raw_phone": contact.get("Phone"),
                "raw_mobile": contact.get("MobilePhone"),
                "raw_country": contact.get("MailingCountry"),
                "normalized_email": c.email.key,
                "normalized_phone": phone.key if c.phone_field else None,
                "region_assumed": (phone if c.phone_field else raw_phone_result).region,
                "region_source": (phone if c.phone_field else raw_phone_result).region_source,
            }
            lookup_rows.append(
                lookup_row(
                    record,
                    display_fields=self.settings.display_fields,
                    default_region=self.params.default_region,
                )
            )
        return {"failure_details": details, "lookup_rows": lookup_rows}


class _LeasedChunk:
    """One worker's pass over a chunk: claim leased batches, sync them through the pipeline, wait for rows
    other workers hold and take them over when their leases expire.

    :param job: the run's job.
    :param chunk: the chunk number.
    :param owner: this worker's lease owner string.
    :param batch_size: rows claimed at once.
    :param total: rows of the chunk still needing respond.io at the start (for progress).
    """

    def __init__(self, job: ContactSyncJob, chunk: int, *, owner: str, batch_size: int, total: int) -> None:
        self.job = job
        self.chunk = chunk
        self.owner = owner
        self.batch_size = batch_size
        self.lease_seconds = float(job.settings.lease_seconds)
        self.poll_seconds = min(5.0, self.lease_seconds / 4)
        self.outcomes: Counter[str] = Counter()
        self.progress = Progress(f"chunk {chunk}", total)
        self.retried: set[str] = set()  # rows this pass ended retry_pending: it does not claim them again
        self.taken_over = 0
        self._waiting: tuple[Any, float] | None = None

    @property
    def _where(self) -> tuple[Engine, str, str, int]:
        return self.job.engine, self.job.run_key, self.job.workspace, self.chunk

    def run(self, pipeline: Any) -> dict[str, Any]:
        from sqlalchemy.exc import SQLAlchemyError

        from contact_sync.state import sync_store

        log.info("chunk %s: %s contacts to sync; leases held as %s for %.0f s, renewed every %.0f s",
                 self.chunk, self.progress.total, self.owner, self.lease_seconds, self.lease_seconds / 3)  # fmt: skip
        renew = _LeaseKeeper(
            lambda: sync_store.renew_leases(*self._where, self.owner, self.lease_seconds),
            every=self.lease_seconds / 3,
            what=f"chunk {self.chunk}",
        )
        try:
            with renew:
                while True:
                    # Held by others *before* claiming: if none were, and nothing is claimable after, every
                    # row left was claimed since by a live worker, which records it.
                    held = sync_store.foreign_leases(*self._where, self.owner)
                    if self._sync_claimed(pipeline):
                        continue
                    if not held:
                        break
                    self._wait(held)
        finally:
            # Leaving in order (done, or failing): the pipeline has finished every call it started, so rows
            # still leased are free for the next try at once instead of after the lease timeout.
            try:
                released = sync_store.release_leases(*self._where, self.owner)
            except SQLAlchemyError as err:
                log.warning("chunk %s: could not release leases (%s); they expire in %.0f s",
                            self.chunk, type(err).__name__, self.lease_seconds)  # fmt: skip
            else:
                if released:
                    log.info("chunk %s: released %s unfinished leased rows", self.chunk, released)
        self.progress.log(str(dict(self.outcomes)))
        return {"chunk": self.chunk, "outcomes": dict(self.outcomes), "taken_over": self.taken_over}

    def _sync_claimed(self, pipeline: Any) -> int:
        """Claim batches and sync them until no row is claimable; returns how many rows were claimed."""
        from contextlib import closing

        claimed = 0

        def rows() -> Iterator[dict[str, Any]]:
            nonlocal claimed
            while True:
                # Nothing of this worker is in flight before its first claim: it may re-take its own leases
                # then (never later, when its leased rows are being worked on).
                batch = self._claim(reclaim_own=claimed == 0)
                if not batch:
                    return
                claimed += len(batch)
                yield from self._not_in_ledger(batch)

        with closing(pipeline.map(self.job._sync_one, rows())) as results:
            for item in results:
                outcome = self.job._record(item)
                if outcome == "retry_pending":
                    self.retried.add(item.item["sf_id"])
                self._count(outcome)
                _maybe_crash(sum(self.outcomes.values()))
        return claimed

    def _claim(self, *, reclaim_own: bool) -> list[dict[str, Any]]:
        from contact_sync.state import sync_store

        batch = sync_store.claim_rows(
            *self._where, self.owner, self.batch_size, self.lease_seconds,
            exclude=self.retried, reclaim_own=reclaim_own,
        )  # fmt: skip
        previous: dict[str, list[datetime]] = {}
        for row in batch:
            if row["taken_over_from"]:
                previous.setdefault(row["taken_over_from"], []).append(row["taken_over_until"])
        for owner, expired in previous.items():
            log.warning("chunk %s: taking over %s rows leased by %s, expired at %s",
                        self.chunk, len(expired), owner, max(expired).isoformat())  # fmt: skip
            self.taken_over += len(expired)
        return batch

    def _not_in_ledger(self, batch: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
        """The batch's rows not yet in the ledger; the others (synced by an earlier or a dead try, which
        recorded them) get ``already_synced`` without a call."""
        from contact_sync.state import sync_store

        job = self.job
        already = sync_store.ledger_ids(job.engine, job.workspace, [r["sf_id"] for r in batch])
        for row in batch:
            if row["sf_id"] in already:
                sync_store.record_outcome(job.engine, run_key=job.run_key, workspace=job.workspace, row=row,
                                          outcome="already_synced", detail="ledger")  # fmt: skip
                self._count("already_synced")
            else:
                yield row

    def _count(self, outcome: str) -> None:
        self.outcomes[outcome] += 1
        self.progress.step(extra=str(dict(self.outcomes)))

    def _wait(self, held: list[Any]) -> None:
        """Rows are leased by other workers and nothing is claimable: say so (on a change, or every 30 s)
        and wait one poll interval."""
        state = tuple((h.owner, h.rows) for h in held)
        clock = time.monotonic()
        if self._waiting is None or self._waiting[0] != state or clock - self._waiting[1] >= 30:
            self._waiting = (state, clock)
            log.info("chunk %s: waiting for %s (another worker still running, or a dead one: its rows are "
                     "taken over when its lease expires); checking every %.2f s", self.chunk,
                     "; ".join(f"{h.rows} rows leased by {h.owner} until {h.until.isoformat()}" for h in held),
                     self.poll_seconds)  # fmt: skip
        time.sleep(self.poll_seconds)


class _LeaseKeeper:
    """Renews a worker's leases from a background thread every ``every`` seconds while it works, so slow
    respond.io calls (backoff, rate limits) never let them expire under a live worker.

    :param renew: extends the leases, returns how many.
    :param every: seconds between renewals (a third of the lease).
    :param what: for the log.
    """

    def __init__(self, renew: Callable[[], int], *, every: float, what: str) -> None:
        import threading

        self.renew, self.every, self.what = renew, every, what
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="lease-keeper", daemon=True)

    def __enter__(self) -> _LeaseKeeper:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        from sqlalchemy.exc import SQLAlchemyError

        while not self._stop.wait(self.every):
            try:
                renewed = self.renew()
            except SQLAlchemyError as err:
                log.warning("%s: could not renew leases (%s), trying again in %.0f s",
                            self.what, type(err).__name__, self.every)  # fmt: skip
            else:
                log.debug("%s: renewed %s leases", self.what, renewed)


def _current_try_number() -> int | None:
    """The running task's try number (None outside a task)."""
    try:
        from airflow.sdk import get_current_context

        return int(get_current_context()["ti"].try_number)
    except (ImportError, RuntimeError, KeyError, AttributeError, TypeError, ValueError):
        return None


def _maybe_crash(done: int) -> None:
    """Fault injection for the crash tests: ``CONTACT_SYNC_FAULT_CRASH_AFTER=N`` makes the first attempt of a
    chunk die after N recorded contacts (while other contacts are in flight), once per marker file."""
    import os

    after = os.environ.get("CONTACT_SYNC_FAULT_CRASH_AFTER")
    marker = os.environ.get("CONTACT_SYNC_FAULT_MARKER")
    if not after or not marker or done < int(after) or Path(marker).exists():
        return
    Path(marker).write_text(str(done))
    raise SyncSystemError(f"injected crash after {done} contacts (CONTACT_SYNC_FAULT_CRASH_AFTER)")


def format_summary(summary: Mapping[str, Any]) -> str:
    outcomes = ", ".join(f"{k} {v}" for k, v in summary["outcomes"].items() if v) or "nothing new"
    reasons = ", ".join(f"{k} {v}" for k, v in list(summary["reasons"].items())[:6])
    dry = " (dry run: nothing written)" if summary.get("dry_run") else ""
    return f"{summary['read']} contacts read{dry}: {outcomes}" + (f"; reasons: {reasons}" if reasons else "")


def _email_ident(key: str | None) -> str | None:
    return f"email:{key}" if key else None


def _phone_ident(key: str | None) -> str | None:
    return f"phone:{key}" if key else None


def _sf_id_of(contact: Mapping[str, Any], slug: str) -> str | None:
    for field in contact.get("custom_fields") or []:
        if field.get("name") == slug:
            return field.get("value")
    return None


def reports_dir() -> Path:
    """Where validation reports go: ``CONTACT_SYNC_REPORTS_DIR``, else ``var/validation-reports``."""
    import os

    return Path(os.environ.get("CONTACT_SYNC_REPORTS_DIR") or REPORTS_DIR)
