"""Key ownership: first synced contact owns a key; duplicates are held, never written over the owner."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from contact_sync import BulkConfig, Reason, assign_ownership, classify_batch
from tests.rules.conftest import sf_id, sf_time

Make = Callable[..., dict[str, Any]]


def decide(contacts: list[dict[str, Any]], owners: dict[str, str] | None = None, **kwargs: Any):  # noqa: ANN201
    return assign_ownership(classify_batch(contacts), owners or {}, **kwargs)


def by_id(result) -> dict[str, Any]:  # noqa: ANN001
    return {d.sf_id: d for d in result.decisions}


def test_first_created_owns_the_email_and_the_second_is_held(make_contact: Make) -> None:
    later = make_contact(2, Email="JANE@example.com", Phone="415 555 0002")
    first = make_contact(1, Email="jane@example.com", Phone="415 555 2671")

    result = decide([later, first])  # input order does not matter, CreatedDate does
    decisions = by_id(result)

    assert [d.sf_id for d in result.decisions] == [sf_id(1), sf_id(2)]
    assert decisions[sf_id(1)].action == "write"
    assert (decisions[sf_id(1)].email_key, decisions[sf_id(1)].phone_key) == (
        "jane@example.com",
        "+14155552671",
    )
    held = decisions[sf_id(2)]
    assert held.action == "hold" and not held.writable
    assert held.owner_id == sf_id(1)
    assert held.reasons == (Reason.DUPLICATE_EMAIL,)
    assert (held.email_key, held.phone_key) == (None, None)  # no fall-back to its own phone
    assert result.new_owners == {"email:jane@example.com": sf_id(1), "phone:+14155552671": sf_id(1)}
    assert result.shared_keys == {"email:jane@example.com": (sf_id(1), sf_id(2))}


def test_same_created_date_is_ordered_by_id(make_contact: Make) -> None:
    a = make_contact(7, Email="x@example.com", CreatedDate=sf_time(0))
    b = make_contact(3, Email="x@example.com", CreatedDate=sf_time(0))

    decisions = by_id(decide([a, b]))

    assert decisions[sf_id(3)].action == "write"
    assert decisions[sf_id(7)].owner_id == sf_id(3)


def test_phone_identifier_owned_by_other_is_duplicate_phone(make_contact: Make) -> None:
    owner = make_contact(1, Email="owner@example.com", Phone="+1 415 555 2671")
    phone_only = make_contact(2, Email="n/a", MobilePhone="(415) 555-2671")

    held = by_id(decide([owner, phone_only]))[sf_id(2)]

    assert held.action == "hold"
    assert held.reasons == (Reason.EMAIL_PLACEHOLDER, Reason.DUPLICATE_PHONE)
    assert held.owner_id == sf_id(1)


def test_owner_of_identifier_but_not_secondary_is_synced_without_it(make_contact: Make) -> None:
    owner = make_contact(1, Email="owner@example.com", Phone="415 555 2671")
    colleague = make_contact(2, Email="colleague@example.com", Phone="415-555-2671")  # shared office line

    result = decide([owner, colleague])
    written = by_id(result)[sf_id(2)]

    assert written.action == "write"
    assert (written.email_key, written.phone_key) == ("colleague@example.com", None)
    assert written.reasons == (Reason.SECONDARY_PHONE_SHARED,)
    assert written.secondary_owner_id == sf_id(1)
    assert result.shared_keys == {"phone:+14155552671": (sf_id(1), sf_id(2))}
    assert "phone:+14155552671" not in {k for k, v in result.new_owners.items() if v == sf_id(2)}


def test_ownership_recorded_earlier_holds_across_runs(make_contact: Make) -> None:
    earlier_owner = sf_id(900)
    newcomer = make_contact(1, Email="jane@example.com", Phone="415 555 2671")

    result = decide([newcomer], owners={"email:jane@example.com": earlier_owner})
    held = result.decisions[0]

    assert held.action == "hold" and held.owner_id == earlier_owner
    assert result.new_owners == {}
    assert result.shared_keys == {"email:jane@example.com": (earlier_owner, sf_id(1))}


def test_resync_of_the_owner_itself_is_a_write(make_contact: Make) -> None:
    me = make_contact(1, Email="jane@example.com", Phone="415 555 2671")
    owners = {"email:jane@example.com": sf_id(1), "phone:+14155552671": sf_id(1)}

    result = decide([me], owners=owners)

    assert result.decisions[0].action == "write"
    assert result.decisions[0].phone_key == "+14155552671"
    assert result.new_owners == {} and result.shared_keys == {}


def test_no_identifier_is_rejected(make_contact: Make) -> None:
    result = decide([make_contact(1, Email="-", Phone="12 3")])

    assert result.decisions[0].action == "reject"
    assert Reason.NO_VALID_IDENTIFIER in result.decisions[0].reasons


def test_bulk_imports_are_skipped_by_default_and_own_nothing(make_contact: Make) -> None:
    loader = "005LOADER00000000A"
    imported = make_contact(1, Email="jane@example.com", CreatedById=loader)
    human = make_contact(2, Email="jane@example.com")
    config = BulkConfig(import_users=frozenset({loader}))

    off = assign_ownership(classify_batch([imported, human], bulk=config), {})
    on = assign_ownership(classify_batch([imported, human], bulk=config), {}, sync_bulk_imports=True)

    assert [(d.sf_id, d.action) for d in off.decisions] == [(sf_id(1), "skip"), (sf_id(2), "write")]
    assert off.decisions[0].reasons == (Reason.BULK_IMPORT,)
    assert off.new_owners == {"email:jane@example.com": sf_id(2)}
    assert [(d.sf_id, d.action) for d in on.decisions] == [(sf_id(1), "write"), (sf_id(2), "hold")]


def test_repeated_id_in_a_batch_keeps_the_last_copy(make_contact: Make) -> None:
    stale = make_contact(1, Email="old@example.com")
    fresh = make_contact(1, Email="new@example.com")

    result = decide([stale, fresh])

    assert [(d.action, d.contact.email_key) for d in result.decisions] == [
        ("skip", "old@example.com"),
        ("write", "new@example.com"),
    ]
    assert result.decisions[0].reasons == (Reason.DUPLICATE_SF_ID,)
    assert result.new_owners == {"email:new@example.com": sf_id(1)}


def test_one_respondio_contact_per_key_in_a_messy_batch(make_contact: Make) -> None:
    contacts = [
        make_contact(
            i, Email=f"user{i % 7}@example.com" if i % 3 else "n/a", Phone=f"415 555 {1000 + i % 11}"
        )
        for i in range(1, 200)
    ]

    written = decide(contacts).to_write
    sent = [d.email_key for d in written if d.email_key] + [d.phone_key for d in written if d.phone_key]
    identifiers = [d.identifier for d in written]

    assert len(sent) == len(set(sent))
    assert len(identifiers) == len(set(identifiers))
