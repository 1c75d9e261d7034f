"""Persistence of the contact sync: staging, decisions, outcomes, ledger, key owners, failures, lookup rows.

Every function takes an engine and plain values, so the sync's tasks hand each other only a run key; nothing large
travels through XCom. Writes are idempotent (upserts keyed by run/workspace/Salesforce Id), so a retried or re-run
task never duplicates a row.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, or_, select, update

from contact_sync.state.schema import (
    contacts_lookup,
    key_owners,
    matching_failures,
    staged_contacts,
    sync_ledger,
    sync_runs,
)
from contact_sync.state.upsert import dialect_insert, upsert

if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator, Mapping, Sequence

    from sqlalchemy.engine import Engine

OUTCOMES = (
    "created",
    "updated_existing",
    "already_synced",
    "skipped_bulk_import",
    "held_duplicate",
    "rejected",
    "retry_pending",
)
FAILURE_OUTCOMES = frozenset({"rejected", "held_duplicate", "retry_pending"})
BATCH = 1000
#: Length of ``staged_contacts.lease_owner``.
LEASE_OWNER_MAX = 200


def now() -> datetime:
    return datetime.now(UTC)


def batches(rows: Iterable[dict[str, Any]], size: int = BATCH) -> Iterator[list[dict[str, Any]]]:
    """Lists of up to ``size`` rows, read lazily from ``rows``."""
    batch: list[dict[str, Any]] = []
    for row in rows:
        batch.append(row)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


# -- runs -----------------------------------------------------------------------------------------------------


def start_run(
    engine: Engine,
    *,
    dag_id: str,
    run_id: str,
    workspace: str,
    window_start: datetime,
    window_end: datetime,
    details: Mapping[str, Any] | None = None,
) -> None:
    """Create (or, on a re-run, reopen) the run's row."""
    with engine.begin() as connection:
        upsert(
            connection,
            sync_runs,
            [
                {
                    "dag_id": dag_id,
                    "run_id": run_id,
                    "workspace": workspace,
                    "window_start": window_start,
                    "window_end": window_end,
                    "status": "running",
                    "counts": {},
                    "started_at": now(),
                    "finished_at": None,
                    "details": dict(details or {}),
                }
            ],
            keys=["dag_id", "run_id", "workspace"],
        )


def finish_run(
    engine: Engine,
    *,
    dag_id: str,
    run_id: str,
    workspace: str,
    status: str,
    counts: Mapping[str, int],
    details: Mapping[str, Any],
) -> None:
    with engine.begin() as connection:
        connection.execute(
            update(sync_runs)
            .where(
                sync_runs.c.dag_id == dag_id, sync_runs.c.run_id == run_id, sync_runs.c.workspace == workspace
            )
            .values(status=status, counts=dict(counts), details=dict(details), finished_at=now())
        )


def run_status(engine: Engine, dag_id: str, run_id: str, workspace: str) -> str | None:
    with engine.connect() as connection:
        return connection.execute(
            select(sync_runs.c.status).where(
                sync_runs.c.dag_id == dag_id, sync_runs.c.run_id == run_id, sync_runs.c.workspace == workspace
            )
        ).scalar_one_or_none()


# -- staging --------------------------------------------------------------------------------------------------


def stage_records(
    engine: Engine,
    run_key: str,
    workspace: str,
    sobject: str,
    records: Iterable[Mapping[str, Any]],
    parse_datetime: Any,
) -> int:
    """Store the records a run read (re-staging the same Id replaces it). Returns how many were staged."""
    staged = 0
    for batch in batches(
        {
            "run_key": run_key,
            "workspace": workspace,
            "sf_id": record["Id"],
            "sobject": sobject,
            "created_date": parse_datetime(record["CreatedDate"]) if record.get("CreatedDate") else None,
            "system_modstamp": parse_datetime(record["SystemModstamp"])
            if record.get("SystemModstamp")
            else None,
            "record": dict(record),
        }
        for record in records
    ):
        with engine.begin() as connection:
            upsert(
                connection,
                staged_contacts,
                batch,
                keys=["run_key", "workspace", "sf_id"],
                update=["sobject", "created_date", "system_modstamp", "record"],
            )
        staged += len(batch)
    return staged


def staged_records(engine: Engine, run_key: str, workspace: str) -> list[dict[str, Any]]:
    """The raw Salesforce records of a run, in ``(CreatedDate, Id)`` order."""
    t = staged_contacts
    with engine.connect() as connection:
        rows = connection.execute(
            select(t.c.record)
            .where(t.c.run_key == run_key, t.c.workspace == workspace)
            .order_by(t.c.created_date, t.c.sf_id)
        )
        return [dict(row.record) for row in rows]


def save_decisions(engine: Engine, run_key: str, workspace: str, rows: Sequence[Mapping[str, Any]]) -> None:
    """Write ``action``, keys, reasons, chunk (and for rows decided without respond.io, the outcome)."""
    t = staged_contacts
    columns = ["action", "identifier", "email_key", "phone_key", "reasons", "owner_id", "bulk_rule", "chunk"]
    for batch in batches(rows):
        with engine.begin() as connection:
            for row in batch:
                values = {c: row.get(c) for c in columns}
                if row.get("outcome"):
                    values["outcome"] = row["outcome"]
                    values["outcome_detail"] = row.get("outcome_detail")
                connection.execute(
                    update(t)
                    .where(t.c.run_key == run_key, t.c.workspace == workspace, t.c.sf_id == row["sf_id"])
                    .values(**values)
                )


def chunk_rows(engine: Engine, run_key: str, workspace: str, chunk: int) -> list[dict[str, Any]]:
    """Rows of one chunk that still need respond.io (no outcome yet, or retry_pending from an earlier try)."""
    t = staged_contacts
    with engine.connect() as connection:
        rows = connection.execute(
            select(t)
            .where(
                t.c.run_key == run_key,
                t.c.workspace == workspace,
                t.c.chunk == chunk,
                or_(t.c.outcome.is_(None), t.c.outcome == "retry_pending"),
            )
            .order_by(t.c.created_date, t.c.sf_id)
        )
        return [dict(row._mapping) for row in rows]


# -- leases: several workers on one chunk ---------------------------------------------------------------------
#
# A sync worker claims a batch of a chunk's rows by writing its lease (owner, until) on them in one short
# transaction, committed before any respond.io call; it renews the lease while it works, and ``record_outcome``
# clears it. Another worker claims only rows that are unleased or whose lease expired (the worker died), so two
# workers never write the same contact, and the rows of a dead worker are taken over after the lease timeout.


@dataclass(frozen=True)
class LeaseHolder:
    """Rows of a chunk that another owner holds under an unexpired lease.

    :param owner: the lease owner (``<hostname>:<pid>:<run_id>:<chunk>:<try>``).
    :param rows: how many rows it holds.
    :param until: when the last of those leases expires (unless renewed).
    """

    owner: str
    rows: int
    until: datetime


def lease_owner_for(run_id: str, chunk: int, try_number: int | None) -> str:
    """The lease owner of this process working on ``chunk`` of ``run_id``:
    ``<hostname>:<pid>:<run_id>:<chunk>:<try_number or x>`` (hostname and pid always the first two parts).

    A run id too long for the column is shortened with a hash, so the owner stays unique and keeps its try.
    """
    import hashlib
    import os
    import socket

    host = socket.gethostname().replace(":", "-")[:60]
    tail = f":{chunk}:{try_number if try_number is not None else 'x'}"
    head = f"{host}:{os.getpid()}:"
    room = LEASE_OWNER_MAX - len(head) - len(tail)
    if len(run_id) > room:
        digest = hashlib.sha256(run_id.encode()).hexdigest()[:12]
        run_id = f"{run_id[: room - 13]}~{digest}"
    return f"{head}{run_id}{tail}"


def parse_lease_owner(owner: str) -> tuple[str, int]:
    """``(hostname, pid)`` of a lease owner string."""
    host, pid, _rest = owner.split(":", 2)
    return host, int(pid)


def _needs_respond_io() -> Any:
    t = staged_contacts
    return or_(t.c.outcome.is_(None), t.c.outcome == "retry_pending")


def _chunk_scope(run_key: str, workspace: str, chunk: int) -> tuple[Any, ...]:
    """A chunk's rows that still need respond.io."""
    t = staged_contacts
    return t.c.run_key == run_key, t.c.workspace == workspace, t.c.chunk == chunk, _needs_respond_io()


def _aware(value: datetime | None) -> datetime | None:
    """SQLite hands DateTime values back naive; they are stored in UTC."""
    return value.replace(tzinfo=UTC) if value is not None and value.tzinfo is None else value


def _row_order(row: Mapping[str, Any]) -> tuple[Any, ...]:
    created = row["created_date"]
    return created is None, created or 0, row["sf_id"]


def pending_count(engine: Engine, run_key: str, workspace: str, chunk: int) -> int:
    """How many rows of the chunk still need respond.io (whoever holds them)."""
    with engine.connect() as connection:
        return int(
            connection.execute(
                select(func.count())
                .select_from(staged_contacts)
                .where(*_chunk_scope(run_key, workspace, chunk))
            ).scalar_one()
        )


def claim_rows(
    engine: Engine,
    run_key: str,
    workspace: str,
    chunk: int,
    owner: str,
    limit: int,
    lease_seconds: float,
    *,
    exclude: Iterable[str] = (),
    reclaim_own: bool = True,
    at: datetime | None = None,
) -> list[dict[str, Any]]:
    """Atomically lease up to ``limit`` rows of the chunk that still need respond.io and return them (in
    ``(created_date, sf_id)`` order).

    A row is claimable when it is unleased, its lease expired (a dead worker's: it is taken over), or, with
    ``reclaim_own``, already leased by ``owner``. One ``WITH candidates AS (SELECT .. LIMIT n) UPDATE .. WHERE
    sf_id IN (candidates) RETURNING`` in a transaction committed before the caller makes any HTTP call: on
    PostgreSQL the candidates are selected ``FOR UPDATE SKIP LOCKED`` (concurrent claimers skip each other's
    rows instead of waiting); on SQLite the transaction starts with ``BEGIN IMMEDIATE``, so it holds the write
    lock before reading candidates.

    A row taken over from an expired lease carries ``taken_over_from`` (the previous owner) and
    ``taken_over_until`` (when that lease expired); other rows carry None there.

    :param exclude: Salesforce Ids never to claim (rows this worker already tried in this call).
    :param reclaim_own: also claim rows already leased by ``owner`` (off while ``owner`` has rows in flight).
    :param at: the current time (default: now), for tests.
    """
    t = staged_contacts
    stamp = at or now()
    until = stamp + timedelta(seconds=lease_seconds)
    scope = _chunk_scope(run_key, workspace, chunk)
    free = [t.c.lease_until.is_(None), t.c.lease_until <= stamp]
    if reclaim_own:
        free.append(t.c.lease_owner == owner)
    skip = sorted(set(exclude))
    candidates = (
        select(t.c.sf_id)
        .where(*scope, or_(*free), *([t.c.sf_id.not_in(skip)] if skip else []))
        .order_by(t.c.created_date, t.c.sf_id)
        .limit(limit)
    )
    with engine.connect() as connection:
        if connection.dialect.name == "postgresql":
            # A materialized CTE runs exactly once. As a plain ``IN (subquery)``, PostgreSQL may run the
            # LIMITed subquery once per outer row (a semi join) and so lease more than ``limit`` rows.
            candidates = candidates.with_for_update(skip_locked=True)
            chosen = candidates.cte("claim_candidates").prefix_with("MATERIALIZED")
        else:
            if connection.dialect.name == "sqlite":
                connection.exec_driver_sql("BEGIN IMMEDIATE")
            chosen = candidates.cte("claim_candidates")
        expired = {
            r.sf_id: (r.lease_owner, _aware(r.lease_until))
            for r in connection.execute(
                select(t.c.sf_id, t.c.lease_owner, t.c.lease_until).where(
                    *scope, t.c.lease_owner != owner, t.c.lease_until <= stamp
                )
            )
        }
        claimed = (
            connection.execute(
                update(t)
                .where(
                    t.c.run_key == run_key, t.c.workspace == workspace, t.c.sf_id.in_(select(chosen.c.sf_id))
                )
                .values(lease_owner=owner, lease_until=until)
                .returning(*t.c)
            )
            .mappings()
            .all()
        )
        connection.commit()
    rows = []
    for row in claimed:
        previous = expired.get(row["sf_id"], (None, None))
        rows.append({**row, "taken_over_from": previous[0], "taken_over_until": previous[1]})
    return sorted(rows, key=_row_order)


def renew_leases(
    engine: Engine,
    run_key: str,
    workspace: str,
    chunk: int,
    owner: str,
    lease_seconds: float,
    *,
    at: datetime | None = None,
) -> int:
    """Extend ``owner``'s still-open leases on the chunk to ``at + lease_seconds``; returns how many.

    A lease another worker took over is no longer ``owner``'s and stays as it is."""
    until = (at or now()) + timedelta(seconds=lease_seconds)
    with engine.begin() as connection:
        return connection.execute(
            update(staged_contacts)
            .where(*_owned(run_key, workspace, chunk, owner), staged_contacts.c.lease_until.is_not(None))
            .values(lease_until=until)
        ).rowcount


def release_leases(engine: Engine, run_key: str, workspace: str, chunk: int, owner: str) -> int:
    """Drop ``owner``'s leases on the chunk (a worker stopping in order: its rows are free at once)."""
    with engine.begin() as connection:
        return connection.execute(
            update(staged_contacts)
            .where(*_owned(run_key, workspace, chunk, owner))
            .values(lease_owner=None, lease_until=None)
        ).rowcount


def _owned(run_key: str, workspace: str, chunk: int, owner: str) -> tuple[Any, ...]:
    """The rows of a chunk leased by ``owner``."""
    t = staged_contacts
    return t.c.run_key == run_key, t.c.workspace == workspace, t.c.chunk == chunk, t.c.lease_owner == owner


def foreign_leases(
    engine: Engine, run_key: str, workspace: str, chunk: int, owner: str, *, at: datetime | None = None
) -> list[LeaseHolder]:
    """Rows of the chunk still needing respond.io that other owners hold under unexpired leases (a worker
    still running, or a dead one whose lease has not expired yet): wait for them, then take them over."""
    t = staged_contacts
    stamp = at or now()
    with engine.connect() as connection:
        rows = connection.execute(
            select(t.c.lease_owner, func.count(), func.max(t.c.lease_until))
            .where(
                *_chunk_scope(run_key, workspace, chunk), t.c.lease_owner != owner, t.c.lease_until > stamp
            )
            .group_by(t.c.lease_owner)
            .order_by(t.c.lease_owner)
        ).all()
    return [LeaseHolder(owner=o, rows=int(n), until=_aware(until)) for o, n, until in rows]  # type: ignore[arg-type]


def lease_summary(
    engine: Engine, run_key: str, workspace: str | None = None, *, at: datetime | None = None
) -> list[dict[str, Any]]:
    """Who holds which rows of a run, for operators: one entry per (workspace, chunk, owner) with the rows held,
    the latest ``lease_until`` and whether all of them expired (a dead worker's)."""
    t = staged_contacts
    stamp = at or now()
    where = [t.c.run_key == run_key, t.c.lease_owner.is_not(None)]
    if workspace is not None:
        where.append(t.c.workspace == workspace)
    with engine.connect() as connection:
        rows = connection.execute(
            select(t.c.workspace, t.c.chunk, t.c.lease_owner, func.count(), func.max(t.c.lease_until))
            .where(*where)
            .group_by(t.c.workspace, t.c.chunk, t.c.lease_owner)
            .order_by(t.c.workspace, t.c.chunk, t.c.lease_owner)
        ).all()
    summary = []
    for ws, chunk, owner, n, until in rows:
        until = _aware(until)
        summary.append(
            {
                "workspace": ws,
                "chunk": chunk,
                "owner": owner,
                "rows": int(n),
                "until": until,
                "expired": until is None or until <= stamp,
            }
        )
    return summary


# -- ledger and key owners ------------------------------------------------------------------------------------


def ledger_ids(engine: Engine, workspace: str, sf_ids: Iterable[str]) -> set[str]:
    """The Ids (of ``sf_ids``) already synced to ``workspace``."""
    found: set[str] = set()
    ids = list(sf_ids)
    with engine.connect() as connection:
        for start in range(0, len(ids), 500):
            part = ids[start : start + 500]
            found.update(
                connection.execute(
                    select(sync_ledger.c.sf_id).where(
                        sync_ledger.c.workspace == workspace, sync_ledger.c.sf_id.in_(part)
                    )
                ).scalars()
            )
    return found


def owners(engine: Engine, workspace: str, keys: Iterable[str]) -> dict[str, str]:
    """``{key: owner Salesforce Id}`` for the keys already owned in ``workspace``."""
    result: dict[str, str] = {}
    wanted = sorted(set(keys))
    with engine.connect() as connection:
        for start in range(0, len(wanted), 500):
            part = wanted[start : start + 500]
            for key, owner in connection.execute(
                select(key_owners.c.key, key_owners.c.owner_sf_id).where(
                    key_owners.c.workspace == workspace, key_owners.c.key.in_(part)
                )
            ):
                result[key] = owner
    return result


def claim_keys(engine: Engine, workspace: str, run_key: str, new_owners: Mapping[str, str]) -> None:
    """Record new key owners; a key someone already owns keeps its owner (first writer wins)."""
    rows = [
        {"workspace": workspace, "key": key, "owner_sf_id": owner, "run_key": run_key, "claimed_at": now()}
        for key, owner in new_owners.items()
    ]
    for batch in batches(rows):
        with engine.begin() as connection:
            statement = dialect_insert(connection, key_owners).on_conflict_do_nothing(
                index_elements=["workspace", "key"]
            )
            connection.execute(statement, batch)


def record_outcome(
    engine: Engine,
    *,
    run_key: str,
    workspace: str,
    row: Mapping[str, Any],
    outcome: str,
    detail: str | None = None,
    contact_id: int | None = None,
    written_fields: Mapping[str, Any] | None = None,
    ledger: bool = True,
) -> None:
    """Store one contact's outcome and clear its lease; a synced contact gets its ledger row in the same
    transaction (unless ``ledger`` is False: a dry run)."""
    t = staged_contacts
    with engine.begin() as connection:
        connection.execute(
            update(t)
            .where(t.c.run_key == run_key, t.c.workspace == workspace, t.c.sf_id == row["sf_id"])
            .values(
                outcome=outcome,
                outcome_detail=(detail or "")[:500] or None,
                respond_io_contact_id=contact_id,
                lease_owner=None,
                lease_until=None,
            )
        )
        if ledger and outcome in {"created", "updated_existing"}:
            stamp = now()
            statement = dialect_insert(connection, sync_ledger)
            statement = statement.on_conflict_do_update(
                index_elements=["workspace", "sf_id"],
                set_={
                    "respond_io_contact_id": statement.excluded.respond_io_contact_id,
                    "written_fields": statement.excluded.written_fields,
                    "run_key": statement.excluded.run_key,
                    "updated_at": statement.excluded.updated_at,
                    "attempts": sync_ledger.c.attempts + 1,
                },
            )
            connection.execute(
                statement,
                [
                    {
                        "workspace": workspace,
                        "sf_id": row["sf_id"],
                        "respond_io_contact_id": contact_id,
                        "identifier": row["identifier"],
                        "outcome": outcome,
                        "written_fields": dict(written_fields or {}),
                        "status": "synced",
                        "attempts": 1,
                        "run_key": run_key,
                        "synced_at": stamp,
                        "updated_at": stamp,
                    }
                ],
            )


# -- end of run: counts, failures, lookup rows ----------------------------------------------------------------


@dataclass(frozen=True)
class RunCounts:
    read: int
    outcomes: dict[str, int]
    reasons: dict[str, int]
    undecided: int

    @property
    def adds_up(self) -> bool:
        return self.undecided == 0 and sum(self.outcomes.values()) == self.read


def run_counts(engine: Engine, run_key: str, workspace: str) -> RunCounts:
    t = staged_contacts
    with engine.connect() as connection:
        rows = connection.execute(
            select(t.c.outcome, t.c.reasons).where(t.c.run_key == run_key, t.c.workspace == workspace)
        ).all()
    outcomes: Counter[str] = Counter()
    reasons: Counter[str] = Counter()
    undecided = 0
    for outcome, row_reasons in rows:
        if outcome is None:
            undecided += 1
        else:
            outcomes[outcome] += 1
        if outcome in FAILURE_OUTCOMES:
            reasons.update(row_reasons or [])
    return RunCounts(
        read=len(rows),
        outcomes={o: outcomes.get(o, 0) for o in OUTCOMES},
        reasons=dict(reasons.most_common()),
        undecided=undecided,
    )


def record_failures(
    engine: Engine, run_key: str, workspace: str, details: Mapping[str, Mapping[str, Any]]
) -> int:
    """Upsert the run's failed contacts into ``matching_failures`` and resolve the ones that now succeeded.

    :param details: per Salesforce Id, the analyst-facing values (raw and normalised, region assumed).
    """
    t = staged_contacts
    stamp = now()
    with engine.connect() as connection:
        rows = connection.execute(
            select(
                t.c.sf_id, t.c.outcome, t.c.reasons, t.c.owner_id, t.c.system_modstamp, t.c.outcome_detail
            ).where(t.c.run_key == run_key, t.c.workspace == workspace)
        ).all()
    failed = [r for r in rows if r.outcome in FAILURE_OUTCOMES]
    succeeded = [r.sf_id for r in rows if r.outcome in {"created", "updated_existing", "already_synced"}]
    for batch in batches(
        {
            "workspace": workspace,
            "sf_id": r.sf_id,
            "run_key": run_key,
            "outcome": r.outcome,
            "reasons": list(r.reasons or []) or ([r.outcome_detail] if r.outcome_detail else []),
            "owner_sf_id": r.owner_id,
            "system_modstamp": r.system_modstamp,
            "first_seen": stamp,
            "last_seen": stamp,
            "resolved_at": None,
            **{k: v for k, v in details.get(r.sf_id, {}).items()},
        }
        for r in failed
    ):
        with engine.begin() as connection:
            statement = dialect_insert(connection, matching_failures)
            keep = {"first_seen"}
            statement = statement.on_conflict_do_update(
                index_elements=["workspace", "sf_id"],
                set_={c: statement.excluded[c] for c in batch[0] if c not in {"workspace", "sf_id", *keep}},
            )
            connection.execute(statement, batch)
    with engine.begin() as connection:
        for start in range(0, len(succeeded), 500):
            connection.execute(
                update(matching_failures)
                .where(
                    matching_failures.c.workspace == workspace,
                    matching_failures.c.sf_id.in_(succeeded[start : start + 500]),
                    matching_failures.c.resolved_at.is_(None),
                )
                .values(resolved_at=stamp, last_seen=stamp)
            )
    return len(failed)


def open_failure_ids(engine: Engine, workspace: str) -> set[str]:
    with engine.connect() as connection:
        return set(
            connection.execute(
                select(matching_failures.c.sf_id).where(
                    matching_failures.c.workspace == workspace, matching_failures.c.resolved_at.is_(None)
                )
            ).scalars()
        )


def retry_pending_ids(engine: Engine, workspace: str) -> list[str]:
    """Contacts whose last attempt hit a transient respond.io failure: every run tries them again."""
    with engine.connect() as connection:
        return list(
            connection.execute(
                select(matching_failures.c.sf_id).where(
                    matching_failures.c.workspace == workspace,
                    matching_failures.c.resolved_at.is_(None),
                    matching_failures.c.outcome == "retry_pending",
                )
            ).scalars()
        )


def upsert_lookup(engine: Engine, rows: Iterable[Mapping[str, Any]]) -> int:
    """Upsert lookup rows (one per Salesforce contact) and re-mark the ambiguity of the keys they touch."""
    count = 0
    touched_email: set[str] = set()
    touched_phone: set[str] = set()
    prepared = (
        {
            "sf_id": row["sf_id"],
            "email_key": row.get("email_key"),
            "phone_key": row.get("phone_key"),
            "first_name": row.get("first_name"),
            "last_name": row.get("last_name"),
            "fields": dict(row.get("fields") or {}),
            "system_modstamp": row.get("system_modstamp"),
            "refreshed_at": now(),
            "email_ambiguous": False,
            "phone_ambiguous": False,
        }
        for row in rows
    )
    for batch in batches(prepared, 20_000):  # large batches: a big org's first load is a million rows
        with engine.begin() as connection:
            upsert(
                connection,
                contacts_lookup,
                batch,
                keys=["sf_id"],
                update=[
                    "email_key",
                    "phone_key",
                    "first_name",
                    "last_name",
                    "fields",
                    "system_modstamp",
                    "refreshed_at",
                ],
            )
        touched_email.update(r["email_key"] for r in batch if r["email_key"])
        touched_phone.update(r["phone_key"] for r in batch if r["phone_key"])
        count += len(batch)
    _mark_ambiguous(engine, contacts_lookup.c.email_key, contacts_lookup.c.email_ambiguous, touched_email)
    _mark_ambiguous(engine, contacts_lookup.c.phone_key, contacts_lookup.c.phone_ambiguous, touched_phone)
    # After the marks: a first load's whole-table marking is faster on the planner's no-statistics defaults
    # (26.8 s with fresh statistics vs about 8 s without, 1M rows); the next refreshes need fresh ones.
    _refresh_statistics(engine, contacts_lookup.name, count)
    return count


def _refresh_statistics(engine: Engine, table: str, written: int) -> None:
    """On PostgreSQL, ``ANALYZE`` a table after writing many rows relative to what its statistics know.

    The ambiguity updates are planned from the table's statistics. After a large load they describe the table as
    it was (never analyzed, or a fraction of its size), the planner picks sequential scans, and the next refresh
    of 10,000 rows of a million-row table took 13.6 s instead of 1.2 s (``bench_lookup_load``).
    Autovacuum would catch up within minutes; this does it at once when this call wrote at least 10,000 rows and
    more than a fifth of the rows the statistics know. (PostgreSQL scales the row count by the table's pages
    itself; what goes stale is the never-analyzed state and the key distributions.)
    """
    from sqlalchemy import text

    if engine.dialect.name != "postgresql" or written < 10_000:
        return
    with engine.begin() as connection:
        known = connection.execute(
            text("SELECT reltuples FROM pg_class WHERE oid = to_regclass(:table)"), {"table": table}
        ).scalar()
        if known is not None and written > 0.2 * max(known, 0):
            connection.execute(text(f'ANALYZE "{table}"'))


def _mark_ambiguous(engine: Engine, key_column: Any, flag_column: Any, keys: set[str]) -> None:
    """Set the flag of every row carrying one of ``keys`` to whether another row carries the same key.

    One set-based statement per slice of keys; for a very large key set (a first load), one statement over the
    whole table instead.
    """
    if not keys:
        return

    # The subquery reads an alias: naming the UPDATE's own table would correlate it row by row on PostgreSQL.
    inner = contacts_lookup.alias("shared")
    inner_key = inner.c[key_column.name]

    def shared_among(*keys: str) -> Any:
        where = [inner_key.is_not(None)] + ([inner_key.in_(keys)] if keys else [])
        return select(inner_key).where(*where).group_by(inner_key).having(func.count() > 1)

    def set_flags(connection: Any, shared: Any, *where: Any) -> None:
        # Only rows whose flag changes are written: on PostgreSQL every updated row is a new tuple, and a first
        # load would otherwise rewrite the whole table to set False on rows that are already False.
        connection.execute(
            update(contacts_lookup)
            .where(*where, flag_column.is_(False), key_column.in_(shared))
            .values({flag_column.name: True})
        )
        connection.execute(
            update(contacts_lookup)
            .where(*where, flag_column.is_(True), or_(key_column.is_(None), key_column.not_in(shared)))
            .values({flag_column.name: False})
        )

    with engine.begin() as connection:
        if len(keys) > 50_000:
            set_flags(connection, shared_among())
            return
        ordered = sorted(keys)
        for start in range(0, len(ordered), 1000):
            part = ordered[start : start + 1000]
            set_flags(connection, shared_among(*part), key_column.in_(part))


def lookup(
    engine: Engine, *, email_key: str | None = None, phone_key: str | None = None
) -> list[dict[str, Any]]:
    """Lookup rows matching either key (all candidates when a key is shared)."""
    conditions = []
    if email_key:
        conditions.append(contacts_lookup.c.email_key == email_key)
    if phone_key:
        conditions.append(contacts_lookup.c.phone_key == phone_key)
    if not conditions:
        return []
    with engine.connect() as connection:
        rows = connection.execute(
            select(contacts_lookup).where(or_(*conditions)).order_by(contacts_lookup.c.sf_id)
        )
        return [dict(r._mapping) for r in rows]


def lookup_rows(engine: Engine, sf_ids: Sequence[str]) -> list[dict[str, Any]]:
    result = []
    with engine.connect() as connection:
        for start in range(0, len(sf_ids), 500):
            part = list(sf_ids[start : start + 500])
            result += [
                dict(r._mapping)
                for r in connection.execute(select(contacts_lookup).where(contacts_lookup.c.sf_id.in_(part)))
            ]
    return result


def ledger_for(engine: Engine, workspace: str, sf_ids: Sequence[str]) -> list[dict[str, Any]]:
    """Ledger rows of these contacts in ``workspace`` (contacts never synced have none)."""
    result = []
    with engine.connect() as connection:
        for start in range(0, len(sf_ids), 500):
            part = list(sf_ids[start : start + 500])
            result += [
                dict(r._mapping)
                for r in connection.execute(
                    select(sync_ledger).where(
                        sync_ledger.c.workspace == workspace, sync_ledger.c.sf_id.in_(part)
                    )
                )
            ]
    return result


def record_mirror(engine: Engine, workspace: str, sf_id: str, mirror: Mapping[str, str]) -> None:
    """Remember the custom-field values we wrote to respond.io (to skip unchanged ones, and to spot echoes)."""
    with engine.begin() as connection:
        current = connection.execute(
            select(sync_ledger.c.written_fields).where(
                sync_ledger.c.workspace == workspace, sync_ledger.c.sf_id == sf_id
            )
        ).scalar_one()
        connection.execute(
            update(sync_ledger)
            .where(sync_ledger.c.workspace == workspace, sync_ledger.c.sf_id == sf_id)
            .values(written_fields={**(current or {}), "mirror": dict(mirror)}, updated_at=now())
        )
