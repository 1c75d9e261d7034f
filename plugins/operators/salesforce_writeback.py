"""
Field write-back: drains the ``writeback_queue`` (edits made in the respond.io inbox) into Salesforce.

Per round of ``batch_size`` due edits:

1. coalesce: several pending edits of one field of one record -> the latest wins, the others are ``superseded``;
2. re-check the rules (editable set, describe: updateable, length, type, picklist) -> ``rejected`` otherwise;
3. read the current values (``Id IN (...)``, 200 Ids per query) and decide per edit:
   Salesforce already holds the new value -> ``applied`` without a write (this is what makes a crash between
   the write and the queue update safe); the field changed since the editor saw it -> ``conflict`` (unless the
   policy is ``force``); otherwise it goes into a composite update (≤ 200 records per call);
4. record each record's result: success -> ``applied`` and the lookup row is updated at once; a transient error
   (``UNABLE_TO_LOCK_ROW``, 5xx, the API budget guard) stays ``pending`` with backoff until ``max_attempts``,
   then ``failed``; any other Salesforce error -> ``rejected`` with its code and message.

``conflict`` and ``rejected`` are outcomes (the task stays green; a warning above ``alert_threshold``); the task
fails when more than ``fail_threshold`` edits end ``failed`` in the run.
"""

from __future__ import annotations

import os
from collections import defaultdict
from datetime import timedelta
from functools import cached_property
from typing import TYPE_CHECKING, Any, Literal

from airflow.sdk import BaseOperator

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    from airflow.sdk import Context
    from hooks.salesforce import SalesforceContactsHook
    from sqlalchemy.engine import Engine

    from contact_sync.writeback_rules import EditRules

ConflictPolicy = Literal["conflict", "force"]
FAULT_ENV = "CONTACT_SYNC_WRITEBACK_FAULT_MARKER"
OUTCOMES = ("applied", "conflict", "rejected", "failed", "superseded", "retrying")


class WriteBackCrash(BaseException):
    """Injected by the crash test: Salesforce has applied the edits, the queue does not know yet.

    A ``BaseException``, like the process dying: no handler in the operator gets to record anything.
    """


class SalesforceWriteBackOperator(BaseOperator):
    """
    Apply queued inbox edits to Salesforce (see the module docstring).

    :param salesforce_conn_id: the Salesforce connection. (templated)
    :param state_db_conn_id: the state DB connection. (templated)
    :param editable_fields: fields the inbox may edit (checked again against describe).
    :param conflict_policy: ``conflict`` holds edits of fields changed in Salesforce since; ``force`` applies.
    :param batch_size: edits per round.
    :param max_edits: stop after this many edits in one run (the next run goes on).
    :param max_attempts: transient failures per edit before it is ``failed``.
    :param retry_delay_seconds: backoff after a transient failure (doubled per attempt).
    :param fail_threshold: fail the task when more edits than this end ``failed``.
    :param alert_threshold: alert when more edits than this end ``conflict`` or ``rejected``.
    :param alert_conn_id: the alert connection (smtp or webhook); without one, the alert is a log warning.
    :param mirror_field_prefix: prefix of the respond.io custom fields that mirror Salesforce fields.
    """

    template_fields = ("salesforce_conn_id", "state_db_conn_id")

    def __init__(
        self,
        *,
        salesforce_conn_id: str = "salesforce_default",
        state_db_conn_id: str = "contact_sync_state",
        editable_fields: Sequence[str] = ("Title", "Department", "LeadSource"),
        conflict_policy: ConflictPolicy = "conflict",
        batch_size: int = 2000,
        max_edits: int = 100_000,
        max_attempts: int = 5,
        retry_delay_seconds: float = 30.0,
        fail_threshold: int = 0,
        alert_threshold: int = 10,
        alert_conn_id: str | None = None,
        mirror_field_prefix: str = "sf_",
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.mirror_field_prefix = mirror_field_prefix
        self.salesforce_conn_id = salesforce_conn_id
        self.state_db_conn_id = state_db_conn_id
        self.editable_fields = editable_fields
        self.conflict_policy = conflict_policy
        self.batch_size = batch_size
        self.max_edits = max_edits
        self.max_attempts = max_attempts
        self.retry_delay_seconds = retry_delay_seconds
        self.fail_threshold = fail_threshold
        self.alert_threshold = alert_threshold
        self.alert_conn_id = alert_conn_id

    @cached_property
    def engine(self) -> Engine:
        from hooks.state_db import StateDbHook

        return StateDbHook(state_db_conn_id=self.state_db_conn_id).engine

    @cached_property
    def salesforce(self) -> SalesforceContactsHook:
        from hooks.salesforce import SalesforceContactsHook

        return SalesforceContactsHook(
            self.salesforce_conn_id, consumer="writeback", state_db_conn_id=self.state_db_conn_id
        )

    @cached_property
    def rules(self) -> EditRules:
        from contact_sync.writeback_rules import EditRules

        return EditRules.from_describe(self.editable_fields, self.salesforce.describe("Contact"))

    def execute(self, context: Context) -> dict[str, Any]:
        from airflow.sdk.exceptions import AirflowFailException

        if self.conflict_policy not in ("conflict", "force"):
            raise AirflowFailException(
                f"writeback_conflict_policy must be 'conflict' or 'force', not {self.conflict_policy!r}"
            )
        totals = drain(self, context)
        self.log.info("write-back: %s", totals)
        if totals["conflict"] + totals["rejected"] > self.alert_threshold:
            message = (
                f"write-back: {totals['conflict']} conflicts and {totals['rejected']} rejected edits in this run "
                f"(alert threshold {self.alert_threshold}); list them with the salesforce_writeback_admin DAG "
                "(action list_conflicts)"
            )
            self.log.warning("%s", message)
            if self.alert_conn_id:
                from notifiers.contact_sync import ContactSyncNotifier

                ContactSyncNotifier(
                    conn_id=self.alert_conn_id,
                    message=message,
                    summary={"event": "writeback_outcomes", **totals},
                ).notify(context)
        if totals["failed"] > self.fail_threshold:
            raise AirflowFailException(
                f"write-back: {totals['failed']} edits failed (threshold {self.fail_threshold}); re-queue them "
                "with the salesforce_writeback_admin DAG (action requeue_failed) once Salesforce accepts writes"
            )
        return totals


def drain(op: SalesforceWriteBackOperator, context: Context | None = None) -> dict[str, Any]:
    """Drain due pending edits round by round; returns counts by outcome plus the Salesforce calls used."""
    from contact_sync.state import writeback_store
    from contact_sync.state.api_budget import SalesforceBudgetExceeded

    totals: dict[str, Any] = dict.fromkeys(OUTCOMES, 0)
    totals["rounds"] = 0
    after_id = 0
    seen = 0
    while seen < op.max_edits:
        batch = writeback_store.due(op.engine, min(op.batch_size, op.max_edits - seen), after_id=after_id)
        if not batch:
            break
        after_id = batch[-1]["id"]
        seen += len(batch)
        totals["rounds"] += 1
        try:
            counts = apply_batch(op, batch)
        except SalesforceBudgetExceeded as err:
            op.log.warning("write-back: %s; the edits stay pending", err)
            still = writeback_store.still_pending(op.engine, [e["id"] for e in batch])
            waiting = [e for e in batch if e["id"] in still]
            _retry_later(op, waiting, "BUDGET_EXCEEDED", str(err)[:1000], totals, count_attempt=False)
            break
        except Exception as err:
            # Never green while edits silently failed: the round's unfinished edits become `failed` (on-call can
            # re-queue them) and the task fails with the error.
            still = writeback_store.still_pending(op.engine, [e["id"] for e in batch])
            writeback_store.set_status(
                op.engine, sorted(still), "failed", last_error_code="UNEXPECTED_ERROR",
                last_error=f"{type(err).__name__}: {err}"[:1000],
            )  # fmt: skip
            from airflow.sdk.exceptions import AirflowFailException

            raise AirflowFailException(
                f"write-back: unexpected {type(err).__name__} ({err}); {len(still)} edits marked failed: re-queue "
                "them with the salesforce_writeback_admin DAG (action requeue_failed) once fixed"
            ) from err
        for name, value in counts.items():
            totals[name] += value
    return totals


def apply_batch(op: SalesforceWriteBackOperator, batch: list[dict[str, Any]]) -> dict[str, int]:
    """One round: coalesce, check, read current values, write, record. Returns counts by outcome."""
    from contact_sync.state import writeback_store
    from contact_sync.writeback_rules import EditRefused, as_text, to_salesforce

    counts: dict[str, int] = dict.fromkeys(OUTCOMES, 0)
    groups: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
    for edit in batch:
        groups[(edit["sf_id"], edit["field"])].append(edit)
    known = {e["id"] for e in batch}  # pending edits of the same fields outside this round (e.g. in backoff)
    for other in writeback_store.pending_for(op.engine, sorted({e["sf_id"] for e in batch})):
        if other["id"] not in known and (other["sf_id"], other["field"]) in groups:
            groups[(other["sf_id"], other["field"])].append(other)
    for group in groups.values():
        group.sort(key=lambda e: (e["requested_at"], e["id"]))

    results: list[dict[str, Any]] = []
    winners: list[tuple[dict[str, Any], set[str | None]]] = []
    for group in groups.values():
        *older, latest = group
        if older:
            results += [{"id": e["id"], "status": "superseded"} for e in older]
            counts["superseded"] += len(older)
        allowed = {e["base_value"] for e in group} | {e["new_value"] for e in older}
        try:
            op.rules.check(latest["field"], latest["new_value"])
        except EditRefused as err:
            results.append(_rejected(latest, f"RULE_{err.code.upper()}", str(err)))
            counts["rejected"] += 1
            continue
        winners.append((latest, allowed))

    current = _current_values(op, winners)
    to_write: dict[str, dict[str, Any]] = {}
    writing: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for edit, allowed in winners:
        record = current.get(edit["sf_id"])
        if record is None:
            results.append(_rejected(edit, "ENTITY_IS_DELETED", "the contact no longer exists in Salesforce"))
            counts["rejected"] += 1
            continue
        now_value = as_text(record.get(edit["field"]))
        if now_value == edit["new_value"]:
            results.append(_applied(edit))  # already there: a crash after the write, or the same edit in SF
            counts["applied"] += 1
        elif now_value not in allowed and op.conflict_policy == "conflict":
            results.append(
                {
                    "id": edit["id"],
                    "status": "conflict",
                    "last_error_code": "CHANGED_IN_SALESFORCE",
                    "last_error": f"{edit['field']} is now {str(now_value)[:300]!r} in Salesforce; the editor saw "
                    f"{str(edit['base_value'])[:300]!r}",
                }
            )
            counts["conflict"] += 1
        else:
            meta = op.rules.describe_fields.get(edit["field"])
            to_write.setdefault(edit["sf_id"], {"Id": edit["sf_id"]})[edit["field"]] = to_salesforce(
                meta, edit["new_value"]
            )
            writing[edit["sf_id"]].append(edit)
    writeback_store.record_results(op.engine, results)
    if to_write:
        _write(op, to_write, writing, counts)
    return counts


def _current_values(
    op: SalesforceWriteBackOperator, winners: Sequence[tuple[dict[str, Any], set[str | None]]]
) -> dict[str, dict[str, Any]]:
    if not winners:
        return {}
    ids = sorted({e["sf_id"] for e, _ in winners})
    fields = sorted({"Id", *(e["field"] for e, _ in winners)})
    return {r["Id"]: r for r in op.salesforce.records_by_id(ids, fields=fields)}


def _write(
    op: SalesforceWriteBackOperator,
    to_write: Mapping[str, dict[str, Any]],
    writing: Mapping[str, list[dict[str, Any]]],
    counts: dict[str, int],
) -> None:
    from hooks.salesforce import SalesforceApiError

    from contact_sync.state import writeback_store

    changes = list(to_write.values())
    try:
        outcomes = op.salesforce.update_fields(changes)
    except SalesforceApiError as err:
        edits = [e for sf_id in to_write for e in writing[sf_id]]
        if err.transient:
            _retry_later(op, edits, err.code, err.message, counts)
            return
        writeback_store.record_results(op.engine, [_rejected(e, err.code, err.message) for e in edits])
        counts["rejected"] += len(edits)
        return
    _maybe_crash()
    results: list[dict[str, Any]] = []
    applied: list[dict[str, Any]] = []
    retry: list[tuple[dict[str, Any], str, str]] = []
    for change, outcome in zip(changes, outcomes, strict=True):
        for edit in writing[change["Id"]]:
            if outcome.success:
                results.append(_applied(edit))
                applied.append(edit)
                counts["applied"] += 1
            elif _transient(outcome.error_code):
                retry.append((edit, outcome.error_code or "", outcome.message or ""))
            else:
                results.append(_rejected(edit, outcome.error_code or "UNKNOWN", outcome.message or ""))
                counts["rejected"] += 1
    writeback_store.record_results(op.engine, results)
    for edit, code, message in retry:
        _retry_later(op, [edit], code, message, counts)
    if applied:
        update_lookup(op.engine, applied, mirror_field_prefix=op.mirror_field_prefix)


def _transient(code: str | None) -> bool:
    from hooks.salesforce import TRANSIENT_CODES

    return code in TRANSIENT_CODES


def _retry_later(
    op: SalesforceWriteBackOperator,
    edits: Sequence[dict[str, Any]],
    code: str,
    message: str,
    counts: dict,
    *,
    count_attempt: bool = True,
) -> None:
    """Transient failure: back to pending with backoff, or ``failed`` once ``max_attempts`` are used.

    The API budget guard does not use up attempts (it clears as the 24 h window rolls on).
    """
    from contact_sync.state import writeback_store

    at = writeback_store.now()
    results = []
    for edit in edits:
        if not count_attempt:
            delay = max(60.0, op.retry_delay_seconds)
            results.append(
                {"id": edit["id"], "status": "pending", "last_error_code": code, "last_error": message[:1000],
                 "next_attempt_at": at + timedelta(seconds=delay)}
            )  # fmt: skip
            counts["retrying"] += 1
            continue
        attempts = edit["attempts"] + 1
        base = {"id": edit["id"], "attempts": attempts, "last_error_code": code, "last_error": message[:1000]}
        if attempts >= op.max_attempts:
            results.append({**base, "status": "failed"})
            counts["failed"] += 1
        else:
            delay = op.retry_delay_seconds * 2 ** (attempts - 1)
            results.append({**base, "status": "pending", "next_attempt_at": at + timedelta(seconds=delay)})
            counts["retrying"] += 1
    writeback_store.record_results(op.engine, results)


def _applied(edit: Mapping[str, Any]) -> dict[str, Any]:
    from contact_sync.state import writeback_store

    return {
        "id": edit["id"],
        "status": "applied",
        "applied_at": writeback_store.now(),
        "last_error_code": None,
        "last_error": None,
    }


def _rejected(edit: Mapping[str, Any], code: str, message: str) -> dict[str, Any]:
    return {
        "id": edit["id"],
        "status": "rejected",
        "last_error_code": code[:100],
        "last_error": message[:1000],
    }


def update_lookup(
    engine: Engine, applied: Sequence[Mapping[str, Any]], *, mirror_field_prefix: str = "sf_"
) -> None:
    """Show applied edits in the lookup table at once; for edits that came from respond.io, remember that
    respond.io already holds the value (so the mirror neither rewrites it nor takes it for a new edit)."""
    from sqlalchemy import update

    from contact_sync.state import sync_store
    from contact_sync.state.schema import contacts_lookup

    by_id: dict[str, dict[str, Any]] = defaultdict(dict)
    for edit in applied:
        by_id[edit["sf_id"]][edit["field"]] = edit["new_value"]
    rows = sync_store.lookup_rows(engine, list(by_id))
    with engine.begin() as connection:
        for row in rows:
            connection.execute(
                update(contacts_lookup)
                .where(contacts_lookup.c.sf_id == row["sf_id"])
                .values(fields={**(row["fields"] or {}), **by_id[row["sf_id"]]})
            )
    from operators.lookup_refresh import mirror_slug

    for edit in (e for e in applied if e["source"] == "webhook"):
        ledger = sync_store.ledger_for(engine, edit["workspace"], [edit["sf_id"]])
        if ledger:
            mirror = dict((ledger[0]["written_fields"] or {}).get("mirror") or {})
            mirror[mirror_slug(mirror_field_prefix, edit["field"])] = edit["new_value"]
            sync_store.record_mirror(engine, edit["workspace"], edit["sf_id"], mirror)


def _maybe_crash() -> None:
    """Fault injection for the crash test: die once (per marker file) right after Salesforce applied."""
    from pathlib import Path

    marker = os.environ.get(FAULT_ENV)
    if not marker or Path(marker).exists():
        return
    Path(marker).write_text("crashed after apply")
    raise WriteBackCrash("injected crash after the composite update, before the queue was updated")


class WriteBackAdminOperator(BaseOperator):
    """
    On-call actions on the write-back queue.

    :param action: ``requeue_failed`` (failed edits back to pending) or ``list_conflicts`` (log and return the
        ``conflict`` edits). (templated)
    :param state_db_conn_id: the state DB connection. (templated)
    :param limit: at most this many edits listed.
    """

    template_fields = ("action", "state_db_conn_id")

    def __init__(
        self, *, action: str, state_db_conn_id: str = "contact_sync_state", limit: int = 200, **kwargs: Any
    ) -> None:
        super().__init__(**kwargs)
        self.action = action
        self.state_db_conn_id = state_db_conn_id
        self.limit = limit

    def execute(self, context: Context) -> dict[str, Any]:
        from airflow.sdk.exceptions import AirflowFailException
        from hooks.state_db import StateDbHook

        from contact_sync.state import writeback_store

        engine = StateDbHook(state_db_conn_id=self.state_db_conn_id).engine
        if self.action == "requeue_failed":
            requeued = writeback_store.requeue_failed(engine)
            self.log.info("write-back: %d failed edits back to pending", requeued)
            return {"action": self.action, "requeued": requeued}
        if self.action == "list_conflicts":
            rows = writeback_store.edits(engine, status="conflict", limit=self.limit)
            for row in rows:
                self.log.info(
                    "conflict #%s %s.%s: wanted %r, %s (by %s at %s)",
                    row["id"],
                    row["sf_id"],
                    row["field"],
                    row["new_value"],
                    row["last_error"],
                    row["requested_by"],
                    row["requested_at"],
                )
            listed = [
                {
                    "id": r["id"],
                    "sf_id": r["sf_id"],
                    "field": r["field"],
                    "new_value": r["new_value"],
                    "detail": r["last_error"],
                }
                for r in rows
            ]
            return {"action": self.action, "conflicts": listed}
        raise AirflowFailException(f"unknown action {self.action!r}: use requeue_failed or list_conflicts")
