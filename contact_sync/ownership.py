"""Key ownership: one respond.io contact per matching key, never one person's name over another's.

Keys are written in identifier form (``email:<key>``, ``phone:<E.164>``), so one mapping holds both kinds.
The first Salesforce contact synced with a key owns it: owners already recorded (state DB) come first, then
the batch in ``(CreatedDate, Id)`` order. This module is the pure rule; the caller feeds it the recorded
owners and records :attr:`OwnershipResult.new_owners` afterwards.

Per contact:

* no identifier → ``reject`` (``NO_VALID_IDENTIFIER``);
* bulk-imported while bulk sync is off → ``skip`` (``BULK_IMPORT``), owns nothing;
* an earlier copy of the same ``Id`` in the batch → ``skip`` (``DUPLICATE_SF_ID``; the last copy is used);
* identifier owned by another contact → ``hold`` (``DUPLICATE_EMAIL`` / ``DUPLICATE_PHONE``) with the owner's
  Id; no fall-back to the other key;
* otherwise ``write``: it owns its identifier, and its secondary key too unless another contact owns that, in
  which case it is written without it (``SECONDARY_EMAIL_SHARED`` / ``SECONDARY_PHONE_SHARED``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from operator import attrgetter
from typing import TYPE_CHECKING, Literal

from contact_sync.gcpause import gc_paused
from contact_sync.reasons import Reason

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping

    from contact_sync.contacts import ClassifiedContact

__all__ = ["Action", "Decision", "OwnershipResult", "assign_ownership"]

Action = Literal["write", "hold", "reject", "skip"]
_LAST = datetime.max.replace(tzinfo=UTC)
_SF_ID = attrgetter("sf_id")
_ABSENT = object()


@dataclass(frozen=True, slots=True)
class Decision:
    """What to do with one classified contact.

    :param contact: the classified contact.
    :param action: ``write``, ``hold`` (duplicate key, listed for an analyst), ``reject`` or ``skip``.
    :param email_key: email to send to respond.io (``None`` when not sent).
    :param phone_key: E.164 phone to send (``None`` when not sent).
    :param reasons: the contact's classification reasons plus the ownership reason, if any.
    :param owner_id: for ``hold``, the Salesforce Id owning the identifier.
    :param secondary_owner_id: for ``write`` without the secondary key, the Id owning that key.
    """

    contact: ClassifiedContact
    action: Action
    email_key: str | None = None
    phone_key: str | None = None
    reasons: tuple[Reason, ...] = ()
    owner_id: str | None = None
    secondary_owner_id: str | None = None

    @property
    def sf_id(self) -> str:
        """The contact's Salesforce Id."""
        return self.contact.sf_id

    @property
    def identifier(self) -> str | None:
        """The respond.io identifier (also for held contacts, which are not written)."""
        return self.contact.identifier

    @property
    def writable(self) -> bool:
        """Whether the contact is written to respond.io."""
        return self.action == "write"


@dataclass(frozen=True, slots=True)
class OwnershipResult:
    """Outcome of :func:`assign_ownership`.

    :param decisions: one per input contact, in ``(CreatedDate, Id)`` order.
    :param new_owners: ``{key: sf_id}`` ownerships gained in this batch, to record in the state DB.
    :param shared_keys: ``{key: (owner_id, other_id, …)}`` for keys carried by more than one Salesforce
        contact (the lookup table marks them ambiguous); owner first.
    """

    decisions: list[Decision]
    new_owners: dict[str, str] = field(default_factory=dict)
    shared_keys: dict[str, tuple[str, ...]] = field(default_factory=dict)

    @property
    def to_write(self) -> list[Decision]:
        """Decisions with ``action == "write"``."""
        return [d for d in self.decisions if d.action == "write"]

    @property
    def held(self) -> list[Decision]:
        """Duplicates listed for an analyst."""
        return [d for d in self.decisions if d.action == "hold"]


def assign_ownership(
    contacts: Iterable[ClassifiedContact],
    existing_owners: Mapping[str, str],
    *,
    sync_bulk_imports: bool = False,
) -> OwnershipResult:
    """Decide per contact whether it is written and which keys it sends.

    :param contacts: the classified batch, any order (sorted here by ``(CreatedDate, Id)``).
    :param existing_owners: ``{key: sf_id}`` owners recorded by earlier runs, keys in identifier form.
    :param sync_bulk_imports: when false (default), bulk-imported contacts are skipped and own nothing.
    :return: an :class:`OwnershipResult`.
    """
    with gc_paused():
        return _assign(list(contacts), existing_owners, sync_bulk_imports)


def _assign(
    batch: list[ClassifiedContact], existing_owners: Mapping[str, str], sync_bulk_imports: bool
) -> OwnershipResult:
    # Hot loop over up to a million contacts: dict methods are bound once, helpers are inlined.
    last_copy = dict(zip(map(_SF_ID, batch), range(len(batch)), strict=True))
    owners: dict[str, str] = {}
    first_carrier: dict[str, str] = {}  # key -> first contact carrying it (insertion order = first carry)
    more_carriers: dict[str, list[str]] = {}  # key -> every distinct carrier, only for keys with several
    decisions: list[Decision] = []
    append = decisions.append
    owned = owners.get
    recorded = existing_owners.get
    first_of = first_carrier.setdefault

    def carry(key: str, sf_id: str) -> None:
        ids = more_carriers.get(key)
        if ids is None:
            more_carriers[key] = [first_carrier[key], sf_id]
        elif sf_id not in ids:
            ids.append(sf_id)

    order = [(contact.created_date or _LAST, contact.sf_id) for contact in batch]
    ordered = sorted(range(len(batch)), key=order.__getitem__)
    del order
    for index in ordered:
        contact = batch[index]
        sf_id = contact.sf_id
        identifier = contact.identifier
        field_reasons = contact.field_reasons  # inlined ClassifiedContact.reasons (usually empty)
        reasons = tuple(dict.fromkeys(reason for _, reason in field_reasons)) if field_reasons else ()
        if last_copy[sf_id] != index:
            append(Decision(contact, "skip", reasons=(*reasons, Reason.DUPLICATE_SF_ID)))
            continue
        if identifier is None:
            append(Decision(contact, "reject", reasons=reasons))
            continue
        if contact.bulk_rule is not None and not sync_bulk_imports:
            append(Decision(contact, "skip", reasons=(*reasons, Reason.BULK_IMPORT)))
            continue
        email_key = contact.email.key
        phone_field = contact.phone_field  # inlined ClassifiedContact.phone_key
        phone_key = (
            contact.phone.key
            if phone_field == "Phone"
            else contact.mobile.key
            if phone_field == "MobilePhone"
            else None
        )
        email_id = None if email_key is None else "email:" + email_key
        phone_id = None if phone_key is None else "phone:" + phone_key
        if email_id is not None and first_of(email_id, sf_id) != sf_id:
            carry(email_id, sf_id)
        if phone_id is not None and first_of(phone_id, sf_id) != sf_id:
            carry(phone_id, sf_id)
        by_email = identifier == email_id
        owner = owned(identifier) or recorded(identifier)
        if owner is not None and owner != sf_id:
            reason = Reason.DUPLICATE_EMAIL if by_email else Reason.DUPLICATE_PHONE
            append(Decision(contact, "hold", reasons=(*reasons, reason), owner_id=owner))
            continue
        if owner is None:
            owners[identifier] = sf_id
        secondary = phone_id if by_email else email_id
        secondary_owner = None if secondary is None else (owned(secondary) or recorded(secondary))
        send_secondary = secondary is not None and secondary_owner in (None, sf_id)
        if send_secondary and secondary_owner is None and secondary is not None:
            owners[secondary] = sf_id
        if secondary is not None and not send_secondary:
            reasons = (*reasons, Reason.SECONDARY_PHONE_SHARED if by_email else Reason.SECONDARY_EMAIL_SHARED)
        else:
            secondary_owner = None
        append(
            Decision(
                contact,
                "write",
                email_key=email_key if (by_email or send_secondary) else None,
                phone_key=phone_key if (not by_email or send_secondary) else None,
                reasons=reasons,
                secondary_owner_id=secondary_owner,
            )
        )

    shared: dict[str, tuple[str, ...]] = {}
    for key, first in first_carrier.items():
        ids = more_carriers.get(key)
        if ids is None:
            # One carrier. Owners gained in this batch always carry their key, so without a recorded owner
            # the key is not shared.
            if key not in existing_owners:
                continue
            ids = [first]
        owner = owned(key) or recorded(key)
        if len(ids) == 1 and (not owner or owner == ids[0]):
            continue  # one carrier that owns the key (or nobody does): not shared
        everyone = list(dict.fromkeys([owner, *ids] if owner else ids))
        if len(everyone) > 1:
            shared[key] = tuple(everyone)
    new_owners = dict(owners)
    if len(existing_owners) < len(owners):
        for key, recorded_id in existing_owners.items():
            if owned(key, _ABSENT) == recorded_id:
                del new_owners[key]
    else:
        for key, sf_id in owners.items():
            if recorded(key) == sf_id:
                del new_owners[key]
    return OwnershipResult(decisions=decisions, new_owners=new_owners, shared_keys=shared)
