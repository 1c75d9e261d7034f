"""Test the Salesforce, respond.io and state DB connections and say what is wrong in plain words."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Callable


def _check(build: Callable[[], object]) -> tuple[bool, str]:
    try:
        hook = build()
        return hook.test_connection()  # type: ignore[attr-defined]
    except Exception as err:  # noqa: BLE001 - every failure becomes a plain-words line
        return False, f"{type(err).__name__}: {str(err)[:300]}"


def check_all(
    salesforce_conn_id: str = "salesforce_default",
    respond_io_conn_id: str = "respond_io_default",
    state_db_conn_id: str = "contact_sync_state",
) -> dict[str, tuple[bool, str]]:
    """Return ``{name: (ok, message)}`` for the three connections contact-sync needs."""
    from hooks.respond_io import RespondIoHook
    from hooks.salesforce import SalesforceContactsHook
    from hooks.state_db import StateDbHook

    return {
        f"state DB ({state_db_conn_id})": _check(lambda: StateDbHook(state_db_conn_id=state_db_conn_id)),
        f"Salesforce ({salesforce_conn_id})": _check(
            lambda: SalesforceContactsHook(
                salesforce_conn_id, consumer="sync", state_db_conn_id=state_db_conn_id
            )
        ),
        f"respond.io ({respond_io_conn_id})": _check(
            lambda: RespondIoHook(respond_io_conn_id=respond_io_conn_id)
        ),
    }
