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
import queue
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

# Wire layout of one classified contact sent by a worker: a flat tuple of the ClassifiedContact fields with the
# three nested results spread out and without ``bulk_rule`` (the parent adds it). Flat tuples of strings pickle
# and unpickle in C; named tuples cost a Python ``__getnewargs__`` call each on the way out.
_EMAIL_AT = ClassifiedContact._fields.index("email")
_EMAIL_END = _EMAIL_AT + len(EmailResult._fields)
_PHONE_END = _EMAIL_END + len(PhoneResult._fields)
_MOBILE_END = _PHONE_END + len(PhoneResult._fields)
_BULK_AT = ClassifiedContact._fields.index("bulk_rule")
if (
    ClassifiedContact._fields[_EMAIL_AT : _EMAIL_AT + 3] != ("email", "phone", "mobile")
    or _BULK_AT != len(ClassifiedContact._fields) - 1
):  # pragma: no cover - guards the layout below against a field reordering
    raise RuntimeError("ClassifiedContact layout changed: update _encode/_decode")


def _classify_chunk(index: int) -> list[ClassifiedContact]:
    if _FORK_INPUT is None:
        raise RuntimeError("_classify_chunk runs only inside classify_many")
    contacts, default_region, flags, chunk_size = _FORK_INPUT
    return [
        classify(contact, default_region=default_region, bulk_rule=flags.get(str(contact.get("Id"))))
        for contact in contacts[index * chunk_size : (index + 1) * chunk_size]
    ]


def _encode_chunk(index: int) -> list[tuple[Any, ...]]:
    """Worker side: classify a chunk without bulk flags and flatten every result (see :func:`_decode_chunk`)."""
    if _FORK_INPUT is None:
        raise RuntimeError("_encode_chunk runs only inside classify_many")
    contacts, default_region, _, chunk_size = _FORK_INPUT
    a, b = _EMAIL_AT, _BULK_AT
    return [
        (*c[:a], *c[a], *c[a + 1], *c[a + 2], *c[a + 3 : b])
        for c in (
            classify(contact, default_region=default_region)
            for contact in contacts[index * chunk_size : (index + 1) * chunk_size]
        )
    ]


def _decode_chunk(
    index: int,
    rows: list[tuple[Any, ...]],
    contacts: Sequence[Mapping[str, Any]],
    flags: Mapping[str, BulkRule],
    chunk_size: int,
) -> list[ClassifiedContact]:
    """Parent side: rebuild the named tuples of a flat chunk and add the bulk flags decided on the whole batch."""
    new = tuple.__new__
    a, e, p, m = _EMAIL_AT, _EMAIL_END, _PHONE_END, _MOBILE_END
    start = index * chunk_size
    out: list[ClassifiedContact] = []
    append = out.append
    for offset, r in enumerate(rows):
        sf_id = r[0]
        # classify() sets sf_id = str(Id or ""), the flags are keyed by str(Id): equal unless Id is blank.
        rule = flags.get(sf_id if sf_id else str(contacts[start + offset].get("Id"))) if flags else None
        append(
            new(
                ClassifiedContact,
                (
                    *r[:a],
                    new(EmailResult, r[a:e]),
                    new(PhoneResult, r[e:p]),
                    new(PhoneResult, r[p:m]),
                    *r[m:],
                    rule,
                ),
            )
        )
    return out


def _take(counter: Any, chunks: int) -> int | None:
    """Claim the next chunk number from the counter shared by the workers."""
    with counter.get_lock():
        index = int(counter.value)
        if index >= chunks:
            return None
        counter.value = index + 1
    return index


def _worker(counter: Any, chunks: int, conn: Connection) -> None:
    """Forked worker: classify claimed chunks and send ``(index, flat rows)`` until none is left."""
    gc.disable()  # the results hold no reference cycles; collections would only rescan the inherited input
    try:
        while (index := _take(counter, chunks)) is not None:
            conn.send_bytes(pickle.dumps((index, _encode_chunk(index)), protocol=pickle.HIGHEST_PROTOCOL))
    finally:
        conn.close()


def _widen_pipe(conn: Connection) -> None:
    """Let a worker write a whole chunk without waiting for the parent to read it (Linux; best effort)."""
    try:
        import fcntl

        if hasattr(fcntl, "F_SETPIPE_SZ"):
            fcntl.fcntl(conn.fileno(), fcntl.F_SETPIPE_SZ, _PIPE_BYTES)
    except (ImportError, OSError, ValueError):
        pass


_PIPE_BYTES = 1 << 20


def _receive(conn: Connection, inbox: queue.SimpleQueue[bytes | None]) -> None:
    """Parent thread: pass on every message a worker sends until it closes its end, then ``None``.

    It does no decoding, so it holds the GIL only briefly and a worker is never kept waiting on a full pipe
    while the parent computes the bulk flags or decodes another chunk.
    """
    try:
        while True:
            inbox.put(conn.recv_bytes())
    except (EOFError, OSError):  # the worker finished (or died: its chunks are redone by the caller)
        pass
    finally:
        conn.close()
        inbox.put(None)


def classify_many(
    contacts: Sequence[Mapping[str, Any]],
    *,
    default_region: str | None = "US",
    bulk: BulkConfig | None = None,
    lookback: Iterable[Mapping[str, Any]] = (),
    processes: int | None = None,
    chunk_size: int = 2_000,
) -> list[ClassifiedContact]:
    """Like :func:`classify_batch`, with ``processes`` worker processes (large backfills, the benchmark).

    ``processes`` workers are forked after the input is in memory and claim chunk numbers from a shared
    counter (so a slow or busy core simply takes fewer chunks). They classify without bulk flags and send
    each chunk back as flat tuples. Meanwhile the caller runs bulk detection once over the whole batch, then
    rebuilds the results and adds the flags: it classifies nothing itself, so the workers have the cores to
    themselves. Results come back in input order, equal to :func:`classify_batch`'s. Where ``fork`` is not
    available (or ``processes`` is 1) it classifies in-process; a chunk a worker failed to return is
    classified in the caller.

    :param contacts: the batch.
    :param default_region: see :func:`classify`.
    :param bulk: bulk-import settings.
    :param lookback: see :func:`classify_batch`.
    :param processes: worker processes (default: CPU count).
    :param chunk_size: contacts per claimed chunk.
    :return: one :class:`ClassifiedContact` per input contact, input order kept.
    """
    global _FORK_INPUT
    import multiprocessing
    import threading

    processes = processes or os.cpu_count() or 1
    chunk_size = max(1, chunk_size)
    chunks = -(-len(contacts) // chunk_size)
    parts: list[list[ClassifiedContact] | None] = [None] * chunks
    workers: list[tuple[Any, threading.Thread]] = []
    try:
        with gc_paused():
            if processes <= 1 or chunks <= 1 or "fork" not in multiprocessing.get_all_start_methods():
                flags = detect_bulk_imports(contacts, config=bulk, lookback=lookback)
                _FORK_INPUT = (contacts, default_region, flags, chunk_size)
                return [contact for index in range(chunks) for contact in _classify_chunk(index)]
            _FORK_INPUT = (contacts, default_region, {}, chunk_size)
            context = multiprocessing.get_context("fork")
            counter = context.Value("q", 0)
            inbox: queue.SimpleQueue[bytes | None] = queue.SimpleQueue()
            for _ in range(min(processes, chunks)):
                receive_end, send_end = context.Pipe(duplex=False)
                _widen_pipe(send_end)
                worker = context.Process(target=_worker, args=(counter, chunks, send_end), daemon=True)
                worker.start()
                send_end.close()
                workers.append(
                    (worker, threading.Thread(target=_receive, args=(receive_end, inbox), daemon=True))
                )
            for _, thread in workers:
                thread.start()
            flags = detect_bulk_imports(
                contacts, config=bulk, lookback=lookback
            )  # while the workers classify
            _FORK_INPUT = (contacts, default_region, flags, chunk_size)
            open_ends = len(workers)
            while open_ends:
                message = inbox.get()
                if message is None:
                    open_ends -= 1
                    continue
                index, rows = pickle.loads(message)  # noqa: S301 - our own forked worker
                del message
                parts[index] = _decode_chunk(index, rows, contacts, flags, chunk_size)
            for worker, thread in workers:
                thread.join()
                worker.join()
            workers.clear()
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
        for worker, _ in workers:  # only left on an error in the caller: do not leave workers running
            worker.terminate()
            worker.join()
