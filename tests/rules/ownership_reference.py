"""The ownership rule as written before its hot loop was tuned: the reference the tuned code must equal."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING

from contact_sync.ownership import Decision, OwnershipResult
from contact_sync.reasons import Reason

if TYPE_CHECKING:
    from collections.abc import Mapping

    from contact_sync.contacts import ClassifiedContact

_LAST = datetime.max.replace(tzinfo=UTC)


def reference_assign(
    batch: list[ClassifiedContact], existing_owners: Mapping[str, str], sync_bulk_imports: bool
) -> OwnershipResult:
    """Straightforward version of :func:`contact_sync.ownership.assign_ownership` (same arguments)."""
    return _assign(batch, existing_owners, sync_bulk_imports)


def _assign(
    batch: list[ClassifiedContact], existing_owners: Mapping[str, str], sync_bulk_imports: bool
) -> OwnershipResult:
    last_copy = {contact.sf_id: index for index, contact in enumerate(batch)}
    owners: dict[str, str] = {}
    carriers: dict[str, list[str]] = {}
    decisions: list[Decision] = []

    def owner_of(key: str) -> str | None:
        return owners.get(key) or existing_owners.get(key)

    def carry(key: str | None, sf_id: str) -> None:
        if key is None:
            return
        ids = carriers.get(key)
        if ids is None:
            carriers[key] = [sf_id]
        elif sf_id not in ids:
            ids.append(sf_id)

    order = [(contact.created_date or _LAST, contact.sf_id) for contact in batch]
    ordered = sorted(range(len(batch)), key=order.__getitem__)
    for index in ordered:
        contact = batch[index]
        sf_id = contact.sf_id
        identifier = contact.identifier
        reasons = contact.reasons
        if last_copy[sf_id] != index:
            decisions.append(Decision(contact, "skip", reasons=(*reasons, Reason.DUPLICATE_SF_ID)))
            continue
        if identifier is None:
            decisions.append(Decision(contact, "reject", reasons=reasons))
            continue
        if contact.bulk_rule is not None and not sync_bulk_imports:
            decisions.append(Decision(contact, "skip", reasons=(*reasons, Reason.BULK_IMPORT)))
            continue
        email_key = contact.email.key
        phone_key = contact.phone_key
        email_id = None if email_key is None else "email:" + email_key
        phone_id = None if phone_key is None else "phone:" + phone_key
        carry(email_id, sf_id)
        carry(phone_id, sf_id)
        by_email = identifier == email_id
        owner = owner_of(identifier)
        if owner is not None and owner != sf_id:
            reason = Reason.DUPLICATE_EMAIL if by_email else Reason.DUPLICATE_PHONE
            decisions.append(Decision(contact, "hold", reasons=(*reasons, reason), owner_id=owner))
            continue
        if owner is None:
            owners[identifier] = sf_id
        secondary = phone_id if by_email else email_id
        secondary_owner = None if secondary is None else owner_of(secondary)
        send_secondary = secondary is not None and secondary_owner in (None, sf_id)
        if send_secondary and secondary_owner is None and secondary is not None:
            owners[secondary] = sf_id
        if secondary is not None and not send_secondary:
            reasons = (*reasons, Reason.SECONDARY_PHONE_SHARED if by_email else Reason.SECONDARY_EMAIL_SHARED)
        else:
            secondary_owner = None
        decisions.append(
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
    for key, ids in carriers.items():
        owner = owner_of(key)
        if len(ids) == 1 and (not owner or owner == ids[0]):
            continue  # one carrier that owns the key (or nobody does): not shared
        everyone = list(dict.fromkeys([owner, *ids] if owner else ids))
        if len(everyone) > 1:
            shared[key] = tuple(everyone)
    new_owners = {key: sf_id for key, sf_id in owners.items() if existing_owners.get(key) != sf_id}
    return OwnershipResult(decisions=decisions, new_owners=new_owners, shared_keys=shared)
