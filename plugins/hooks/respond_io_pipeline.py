"""
ContactPipeline: many contacts' respond.io calls in flight together, each endpoint held at its rate limit.

The hook is transport: one call, one limiter slot, one classified result. Syncing one contact is a short
sequence of calls (look up by e-mail, then by phone, create when missing, tag) in which each call waits
for the previous one, so one contact at a time leaves every endpoint idle most of the time. The pipeline
runs the per-contact function of many contacts on a thread pool: while one contact waits for its create
to be processed, others are looking up or tagging, and the queue in front of each endpoint's limiter stays
non-empty, so the busiest endpoint runs at its limit and latency stops mattering.

Operators supply their own per-contact function through :meth:`ContactPipeline.map`;
:meth:`ContactPipeline.run` is the stock lookup → create_or_update → tag sequence (:func:`sync_contact`).
A contact's failure becomes its :class:`ItemResult`; only an authentication failure (which every later
call would repeat) stops the batch.
"""

from __future__ import annotations

import logging
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from functools import partial
from typing import TYPE_CHECKING, Any, Generic, Literal, TypeVar

from hooks.respond_io_errors import RespondIoAuthError, RespondIoError
from hooks.respond_io_identifiers import ContactIdentifier, contact_identifier
from hooks.respond_io_shared_limits import RateLimiterUnavailable

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence

    from hooks.respond_io import RespondIoHook
    from hooks.respond_io_errors import CallResult

__all__ = [
    "DEFAULT_TAGS",
    "ContactInput",
    "ContactOutcome",
    "ContactPipeline",
    "ItemResult",
    "sync_contact",
]

log = logging.getLogger(__name__)

T = TypeVar("T")
R = TypeVar("R")

DEFAULT_TAGS: tuple[str, ...] = ("Auto-create: Salesforce",)


@dataclass(frozen=True)
class ItemResult(Generic[T, R]):
    """One input item's outcome.

    :param index: the item's position in the input (results arrive in completion order).
    :param item: the input item.
    :param ok: the function returned without raising and its value does not report ``ok=False``.
    :param value: what the function returned (``None`` if it raised).
    :param error_class: ``value.error_class`` on a reported failure, the error class of a raised
        :class:`RespondIoError`, or ``"exception"`` / ``"invalid_input"`` for other exceptions.
    :param message: failure message.
    """

    index: int
    item: T
    ok: bool
    value: R | None = None
    error_class: str | None = None
    message: str | None = None


@dataclass(frozen=True)
class ContactInput:
    """A contact to sync: ``key`` identifies it to the caller (e.g. the Salesforce Id).

    :param fields: respond.io ContactFields for create_or_update (``firstName`` required on create).
    """

    key: str
    email: str | None
    phone: str | None
    fields: Mapping[str, Any] = field(default_factory=dict)

    def identifiers(self) -> list[ContactIdentifier]:
        """Lookup keys in order: e-mail, then phone (an unusable value raises ValueError)."""
        idents: list[ContactIdentifier] = []
        if self.email:
            idents.append(contact_identifier("email", self.email))
        if self.phone:
            idents.append(contact_identifier("phone", self.phone))
        if not idents:
            raise ValueError("contact has neither e-mail nor phone to identify it")
        return idents


@dataclass(frozen=True)
class ContactOutcome:
    """What :func:`sync_contact` did for one contact.

    :param action: ``found`` (existing contact, only tagged), ``updated``, ``created``, or ``failed``.
    :param calls: every call's classified result, in order.
    """

    ok: bool
    action: Literal["found", "updated", "created", "failed"]
    contact_id: int | None = None
    error_class: str | None = None
    message: str | None = None
    calls: tuple[CallResult, ...] = ()

    @property
    def attempts(self) -> int:
        """HTTP requests this contact cost, retries included."""
        return sum(c.attempts for c in self.calls)


def _failed(calls: list[CallResult], result: CallResult, contact_id: int | None = None) -> ContactOutcome:
    return ContactOutcome(
        False, "failed", contact_id, result.error_class, f"{result.endpoint}: {result.message}", tuple(calls)
    )


def sync_contact(
    hook: RespondIoHook,
    contact: ContactInput,
    *,
    tags: Sequence[str] = DEFAULT_TAGS,
    update_existing: bool = False,
) -> ContactOutcome:
    """Look the contact up by e-mail then phone, create it when neither exists, then tag it.

    :param hook: the transport.
    :param contact: the contact.
    :param tags: tags to add (none: skip tagging).
    :param update_existing: send ``fields`` to an existing contact (``PUT``) instead of leaving it as is.
    """
    calls: list[CallResult] = []
    idents = contact.identifiers()
    contact_id: int | None = None
    for ident in idents:
        result = hook.get_contact(ident)
        calls.append(result)
        if result.ok:
            contact_id = result.contact_id
            break
        if not result.not_found:
            return _failed(calls, result)
    action: Literal["found", "updated", "created"] = "found"
    if contact_id is None:
        result = hook.create_or_update(idents[0], contact.fields)
        calls.append(result)
        if not result.ok or result.contact_id is None:
            return _failed(calls, result)
        contact_id, action = result.contact_id, "created"
    elif update_existing and contact.fields:
        result = hook.update_contact(contact_identifier("id", contact_id), contact.fields)
        calls.append(result)
        if not result.ok:
            return _failed(calls, result, contact_id)
        action = "updated"
    if tags:
        result = hook.add_tags(contact_identifier("id", contact_id), tags)
        calls.append(result)
        if not result.ok:
            return _failed(calls, result, contact_id)
    return ContactOutcome(True, action, contact_id, calls=tuple(calls))


class ContactPipeline:
    """
    Runs a per-item function over many items on a thread pool sharing one hook (and so its limiters).

    :param hook: the respond.io hook; its session and limiter are shared by all threads.
    :param max_in_flight: items processed at once; default the connection's ``max_in_flight`` extra. Enough
        threads to keep the busiest endpoint's queue non-empty ≈ its rate × the time one item takes.
    """

    def __init__(self, hook: RespondIoHook, *, max_in_flight: int | None = None) -> None:
        self.hook = hook
        self._max_in_flight = max_in_flight

    @property
    def max_in_flight(self) -> int:
        return max(1, self._max_in_flight or self.hook.settings.max_in_flight)

    def map(self, func: Callable[[T], R], items: Iterable[T]) -> Iterator[ItemResult[T, R]]:
        """Apply ``func`` to every item, many at once; yield an :class:`ItemResult` per item as each finishes.

        ``func`` should use the hook's methods (so every call is rate limited) and report per-item failures
        either by returning a value with ``ok=False`` or by raising. Items are read lazily, at most
        ``2 × max_in_flight`` ahead. Abandoning the iterator cancels the items not yet started.

        :raises RespondIoAuthError: the token was refused; pending items are cancelled.
        :raises RateLimiterUnavailable: the shared limiter's Redis is gone; pending items are cancelled.
        """
        # Build the session and limiter once, here, before threads race to build them.
        _ = self.hook.session, self.hook.limiter
        window = self.max_in_flight * 2
        source = enumerate(items)
        pending: dict[Future[R], tuple[int, T]] = {}
        executor = ThreadPoolExecutor(max_workers=self.max_in_flight, thread_name_prefix="respond-io")
        try:
            exhausted = False
            while True:
                while not exhausted and len(pending) < window:
                    nxt = next(source, None)
                    if nxt is None:
                        exhausted = True
                        break
                    pending[executor.submit(func, nxt[1])] = nxt
                if not pending:
                    return
                done, _ = wait(pending, return_when=FIRST_COMPLETED)
                for future in done:
                    index, item = pending.pop(future)
                    yield self._result(index, item, future)
        finally:
            executor.shutdown(wait=True, cancel_futures=True)

    @staticmethod
    def _result(index: int, item: T, future: Future[R]) -> ItemResult[T, R]:
        error = future.exception()
        if error is None:
            value = future.result()
            if getattr(value, "ok", True) is False:
                error_class, message = getattr(value, "error_class", None), getattr(value, "message", None)
                return ItemResult(index, item, False, value, error_class, message)
            return ItemResult(index, item, True, value)
        if isinstance(error, (RespondIoAuthError, RateLimiterUnavailable)):
            raise error
        if isinstance(error, RespondIoError):
            return ItemResult(index, item, False, None, error.error_class, str(error))
        if isinstance(error, ValueError):
            return ItemResult(index, item, False, None, "invalid_input", str(error))
        log.error("item %s failed with an unexpected %s", index, type(error).__name__, exc_info=error)
        return ItemResult(index, item, False, None, "exception", f"{type(error).__name__}: {error}")

    def run(
        self,
        contacts: Iterable[ContactInput],
        *,
        tags: Sequence[str] = DEFAULT_TAGS,
        update_existing: bool = False,
    ) -> Iterator[ItemResult[ContactInput, ContactOutcome]]:
        """:func:`sync_contact` for every contact (lookup → create_or_update when missing → tag)."""
        func = partial(sync_contact, self.hook, tags=tags, update_existing=update_existing)
        return self.map(func, contacts)
