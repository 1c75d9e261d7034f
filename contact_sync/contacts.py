"""Contact-level classification: both matching keys, the respond.io identifier, every reason, bulk flag.

The identifier is ``email:<key>`` when the email is valid, else ``phone:<E.164>`` from the first *valid* of
``Phone`` then ``MobilePhone``, else none (``NO_VALID_IDENTIFIER``). Reasons of fields that did not decide the
identifier are kept as warnings (an invalid email on a contact that syncs by phone is still reported).
"""

from __future__ import annotations

import gc
import logging
import os
import pickle
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Literal, NamedTuple

from contact_sync.bulk_import import BulkConfig, BulkRule, detect_bulk_imports
from contact_sync.countries import resolve_region
from contact_sync.emails import EmailResult, normalize_email
from contact_sync.gcpause import gc_paused
from contact_sync.phones import PhoneResult, normalize_phone
from contact_sync.reasons import Reason, Verdict
from contact_sync.text import clean_text
from contact_sync.timestamps import parse_sf_datetime

if TYPE_CHECKING:
    from datetime import datetime
    from multiprocessing.connection import Connection

__all__ = ["ClassifiedContact", "classify", "classify_batch", "classify_many"]

log = logging.getLogger(__name__)

PhoneField = Literal["Phone", "MobilePhone"]


class ClassifiedContact(NamedTuple):
    """Everything the sync needs to know about one Salesforce Contact (immutable named tuple).

    :param sf_id: Salesforce ``Id``.
    :param created_date: ``CreatedDate`` as aware UTC datetime (``None`` if absent or unreadable).
    :param created_by_id: ``CreatedById``.
    :param country_region: region resolved from ``MailingCountryCode``/``MailingCountry`` (``None`` if none).
    :param email: result for ``Email``.
    :param phone: result for ``Phone``.
    :param mobile: result for ``MobilePhone``.
    :param phone_field: which field gave :attr:`phone_key` (``None`` when neither is valid).
    :param identifier: ``email:<key>``, ``phone:<E.164>`` or ``None``.
    :param verdict: ``valid`` (has an identifier), ``missing`` (email and both phones blank) or ``invalid``.
    :param field_reasons: ``((field, reason), …)`` for every field that produced a reason.
    :param bulk_rule: the bulk-import rule that fired, or ``None``.
    """

    sf_id: str
    created_date: datetime | None
    created_by_id: str | None
    country_region: str | None
    email: EmailResult
    phone: PhoneResult
    mobile: PhoneResult
    phone_field: PhoneField | None
    identifier: str | None
    verdict: Verdict
    field_reasons: tuple[tuple[str, Reason], ...]
    bulk_rule: BulkRule | None = None

    @property
    def email_key(self) -> str | None:
        """The email matching key, or ``None``."""
        return self.email.key

    @property
    def phone_key(self) -> str | None:
        """The E.164 phone matching key (from the first valid of ``Phone``, ``MobilePhone``), or ``None``."""
        if self.phone_field == "Phone":
            return self.phone.key
        if self.phone_field == "MobilePhone":
            return self.mobile.key
        return None

    @property
    def phone_result(self) -> PhoneResult | None:
        """The phone result that gave :attr:`phone_key`."""
        return {"Phone": self.phone, "MobilePhone": self.mobile}.get(self.phone_field or "")

    @property
    def identifier_kind(self) -> Literal["email", "phone"] | None:
        """``"email"``, ``"phone"`` or ``None``."""
        return (
            None if self.identifier is None else "email" if self.identifier.startswith("email:") else "phone"
        )

    @property
    def reasons(self) -> tuple[Reason, ...]:
        """Every reason code, in field order, without repeats."""
        if not self.field_reasons:
            return ()
        return tuple(dict.fromkeys(reason for _, reason in self.field_reasons))

    @property
    def bulk(self) -> bool:
        """Whether the contact counts as bulk-imported."""
        return self.bulk_rule is not None


def _text(value: object) -> str | None:
    text = clean_text(value)
    return text or None


def classify(
    contact: Mapping[str, Any],
    *,
    default_region: str | None = "US",
    bulk_rule: BulkRule | None = None,
    import_users: frozenset[str] | set[str] = frozenset(),
) -> ClassifiedContact:
    """Classify one Salesforce Contact.

    :param contact: dict with Salesforce field names (``Id``, ``Email``, ``Phone``, ``MobilePhone``,
        ``MailingCountry``, ``MailingCountryCode``, ``CreatedDate``, ``CreatedById``…); missing keys are blank.
    :param default_region: region for numbers without ``+CC`` when the contact's country does not give one.
    :param bulk_rule: the bulk rule already decided for this contact by :func:`detect_bulk_imports`.
    :param import_users: import users; used when ``bulk_rule`` is not given (bursts need the whole batch,
        see :func:`classify_batch`).
    :return: an immutable :class:`ClassifiedContact`.
    """
    reasons: list[tuple[str, Reason]] = []
    country_code = _text(contact.get("MailingCountryCode"))
    country_name = _text(contact.get("MailingCountry"))
    region = resolve_region(country_code) if country_code else None
    if region is None and country_name:
        region = resolve_region(country_name)
    if region is None and (country_code or country_name):
        reasons.append(("MailingCountry", Reason.COUNTRY_UNRECOGNISED))

    email = normalize_email(contact.get("Email"))
    phone = normalize_phone(contact.get("Phone"), region, default_region)
    phone_field: PhoneField | None = "Phone" if phone.verdict == "valid" else None
    mobile = normalize_phone(contact.get("MobilePhone"), region, default_region)
    if phone_field is None and mobile.verdict == "valid":
        phone_field = "MobilePhone"
    for name, result in (("Email", email), ("Phone", phone), ("MobilePhone", mobile)):
        if result.reason is not None:
            reasons.append((name, result.reason))

    if email.key is not None:
        identifier: str | None = "email:" + email.key
    elif phone_field is not None:
        identifier = "phone:" + (phone.key if phone_field == "Phone" else mobile.key or "")
    else:
        identifier = None
    if identifier is not None:
        verdict: Verdict = "valid"
    elif email.verdict == phone.verdict == mobile.verdict == "missing":
        verdict = "missing"
    else:
        verdict = "invalid"
    if identifier is None:
        reasons.append(("Contact", Reason.NO_VALID_IDENTIFIER))

    created_by = _text(contact.get("CreatedById"))
    if bulk_rule is None and created_by is not None and created_by in import_users:
        bulk_rule = BulkRule.IMPORT_USER
    return ClassifiedContact(
        sf_id=str(contact.get("Id") or ""),
        created_date=parse_sf_datetime(contact.get("CreatedDate")),
        created_by_id=created_by,
        country_region=region,
        email=email,
        phone=phone,
        mobile=mobile,
        phone_field=phone_field,
        identifier=identifier,
        verdict=verdict,
        field_reasons=tuple(reasons),
        bulk_rule=bulk_rule,
    )


def classify_batch(
    contacts: Iterable[Mapping[str, Any]],
    *,
    default_region: str | None = "US",
    bulk: BulkConfig | None = None,
    lookback: Iterable[Mapping[str, Any]] = (),
) -> list[ClassifiedContact]:
    """Detect bulk imports over the batch, then classify every contact (input order kept).

    :param contacts: the batch.
    :param default_region: see :func:`classify`.
    :param bulk: bulk-import settings (default :class:`BulkConfig`).
    :param lookback: contacts created up to the burst window before the batch (see
        :func:`~contact_sync.bulk_import.detect_bulk_imports`).
    :return: one :class:`ClassifiedContact` per input contact.
    """
    batch = contacts if isinstance(contacts, Sequence) else list(contacts)
    flags = detect_bulk_imports(batch, config=bulk, lookback=lookback)
    with gc_paused():
        return [
            classify(contact, default_region=default_region, bulk_rule=flags.get(str(contact.get("Id"))))
            for contact in batch
        ]


# Set in the parent just before forking workers, so chunks travel as chunk numbers, not pickled dicts.
_FORK_INPUT: tuple[Sequence[Mapping[str, Any]], str | None, dict[str, BulkRule], int] | None = None


def _classify_chunk(index: int) -> list[ClassifiedContact]:
    if _FORK_INPUT is None:
        raise RuntimeError("_classify_chunk runs only inside classify_many")
    contacts, default_region, flags, chunk_size = _FORK_INPUT
    return [
        classify(contact, default_region=default_region, bulk_rule=flags.get(str(contact.get("Id"))))
        for contact in contacts[index * chunk_size : (index + 1) * chunk_size]
    ]


def _take(counter: Any, chunks: int) -> int | None:
    """Claim the next chunk number from the counter shared by the parent and the workers."""
    with counter.get_lock():
        index = int(counter.value)
        if index >= chunks:
            return None
        counter.value = index + 1
    return index


def _worker(counter: Any, chunks: int, conn: Connection) -> None:
    """Forked worker: classify claimed chunks and send ``(index, results)`` until none is left."""
    gc.disable()  # the results hold no reference cycles; collections would only rescan the inherited input
    try:
        while (index := _take(counter, chunks)) is not None:
            conn.send_bytes(pickle.dumps((index, _classify_chunk(index)), protocol=pickle.HIGHEST_PROTOCOL))
    finally:
        conn.close()


def _receive(conn: Connection, into: list[list[ClassifiedContact] | None]) -> None:
    """Parent thread: store every chunk a worker sends until it closes its end."""
    try:
        while True:
            index, part = pickle.loads(conn.recv_bytes())  # noqa: S301 - our own forked worker
            into[index] = part
    except (EOFError, OSError):  # the worker finished (or died: its chunks are redone by the caller)
        pass
    finally:
        conn.close()


def classify_many(
    contacts: Sequence[Mapping[str, Any]],
    *,
    default_region: str | None = "US",
    bulk: BulkConfig | None = None,
    lookback: Iterable[Mapping[str, Any]] = (),
    processes: int | None = None,
    chunk_size: int = 2_000,
) -> list[ClassifiedContact]:
    """Like :func:`classify_batch`, with ``processes`` processes in total (large backfills, the benchmark).

    Bulk detection runs once in the caller (it needs the whole batch). ``processes - 1`` workers are forked
    after the input is in memory; they and the calling process claim chunk numbers from a shared counter (so a
    slow or busy core simply takes fewer chunks) and only the workers' results are pickled back. The caller
    does its share of the classification instead of waiting. Results come back in input order. Where
    ``fork`` is not available (or ``processes`` is 1) it classifies in-process; a chunk a worker failed to
    return is classified in the caller.

    :param contacts: the batch.
    :param default_region: see :func:`classify`.
    :param bulk: bulk-import settings.
    :param lookback: see :func:`classify_batch`.
    :param processes: processes including the caller (default: CPU count).
    :param chunk_size: contacts per claimed chunk.
    :return: one :class:`ClassifiedContact` per input contact, input order kept.
    """
    global _FORK_INPUT
    import multiprocessing
    import threading

    flags = detect_bulk_imports(contacts, config=bulk, lookback=lookback)
    processes = processes or os.cpu_count() or 1
    chunk_size = max(1, chunk_size)
    chunks = -(-len(contacts) // chunk_size)
    parts: list[list[ClassifiedContact] | None] = [None] * chunks
    _FORK_INPUT = (contacts, default_region, flags, chunk_size)
    try:
        with gc_paused():
            if processes <= 1 or chunks <= 1 or "fork" not in multiprocessing.get_all_start_methods():
                return [contact for index in range(chunks) for contact in _classify_chunk(index)]
            context = multiprocessing.get_context("fork")
            counter = context.Value("q", 0)
            workers: list[tuple[Any, threading.Thread]] = []
            for _ in range(min(processes, chunks) - 1):
                receive_end, send_end = context.Pipe(duplex=False)
                worker = context.Process(target=_worker, args=(counter, chunks, send_end), daemon=True)
                worker.start()
                send_end.close()
                workers.append(
                    (worker, threading.Thread(target=_receive, args=(receive_end, parts), daemon=True))
                )
            for _, thread in workers:
                thread.start()
            while (index := _take(counter, chunks)) is not None:
                parts[index] = _classify_chunk(index)
            for worker, thread in workers:
                thread.join()
                worker.join()
            missing = [index for index, part in enumerate(parts) if part is None]
            if missing:
                log.warning(
                    "classify_many: %s chunk(s) not returned by a worker; classifying them here", len(missing)
                )
                for index in missing:
                    parts[index] = _classify_chunk(index)
            return [contact for part in parts for contact in part or ()]
    finally:
        _FORK_INPUT = None
