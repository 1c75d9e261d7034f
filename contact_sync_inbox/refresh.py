"""Read-through: refresh a few contacts' lookup rows from Salesforce before answering.

Uses the project's :class:`~hooks.salesforce.SalesforceContactsHook` as consumer ``lookup`` (its share of the
shared API budget), a short timeout and no transient retries (a person is waiting). After a failure to reach
Salesforce, read-through is skipped for ``retry_after`` seconds so every lookup does not pay the timeout.
"""

from __future__ import annotations

import logging
import re
import sys
import threading
import time
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from collections.abc import Sequence

    from hooks.salesforce import SalesforceContactsHook
    from sqlalchemy.engine import Engine

log = logging.getLogger(__name__)

RefreshStatus = Literal["refreshed", "budget_exhausted", "salesforce_unavailable", "not_in_salesforce"]
_SALESFORCE_ID = re.compile(r"^[A-Za-z0-9]{15}(?:[A-Za-z0-9]{3})?$")
PROJECT_PLUGINS = Path(__file__).resolve().parent.parent / "plugins"


def ensure_plugins_importable() -> None:
    """Make ``hooks`` importable when running outside Airflow (Airflow puts ``plugins/`` on ``sys.path``)."""
    try:
        import hooks.salesforce  # noqa: F401
    except ImportError:
        if PROJECT_PLUGINS.is_dir() and str(PROJECT_PLUGINS) not in sys.path:
            sys.path.append(str(PROJECT_PLUGINS))


@dataclass(frozen=True)
class RefreshOutcome:
    status: RefreshStatus
    message: str
    refreshed: int = 0


class SalesforceRefresher:
    """
    Re-reads contacts by Id and upserts their lookup rows.

    :param engine: the state DB the lookup rows live in.
    :param salesforce_conn_id: the Salesforce connection (Airflow connection or ``AIRFLOW_CONN_*`` variable).
    :param state_db_conn_id: the state DB connection the hook counts the budget in (``None``: in memory).
    :param fields: Salesforce fields to read (keys and display fields).
    :param display_fields: fields shown in the inbox (stored in the row's ``fields``).
    :param default_region: region assumed for phone numbers without ``+CC`` (same as the sync).
    :param timeout: seconds per Salesforce request.
    :param retry_after: seconds to skip read-through after Salesforce could not be reached.
    """

    def __init__(
        self,
        *,
        engine: Engine,
        salesforce_conn_id: str,
        state_db_conn_id: str | None,
        fields: Sequence[str],
        display_fields: Sequence[str],
        default_region: str,
        timeout: float = 5.0,
        retry_after: float = 30.0,
    ) -> None:
        self.engine = engine
        self.salesforce_conn_id = salesforce_conn_id
        self.state_db_conn_id = state_db_conn_id
        self.fields = tuple(fields)
        self.display_fields = tuple(display_fields)
        self.default_region = default_region
        self.timeout = timeout
        self.retry_after = retry_after
        self._lock = threading.Lock()
        self._down_until = 0.0

    @cached_property
    def hook(self) -> SalesforceContactsHook:
        ensure_plugins_importable()
        from hooks.salesforce import SalesforceContactsHook

        return SalesforceContactsHook(
            self.salesforce_conn_id,
            consumer="lookup",
            state_db_conn_id=self.state_db_conn_id,
            timeout=self.timeout,
            max_transient_retries=0,
        )

    def instance_url(self) -> str | None:
        """The connection's ``instance_url`` extra (the org's My Domain URL), for links to records."""
        try:
            value = self.hook.extras.get("instance_url")
        except Exception as err:  # noqa: BLE001 - a missing connection only costs the link
            log.warning(
                "inbox: cannot read Salesforce connection '%s' (%s)",
                self.salesforce_conn_id,
                type(err).__name__,
            )
            return None
        return str(value).rstrip("/") if value else None

    def _get_contact(self, sf_id: str) -> dict[str, Any]:
        """``GET sobjects/Contact/{Id}?fields=...`` through the hook (budget, auth, error classification).

        ``SalesforceContactsHook.get_record`` would be the call, but it checks the Id with the field-name rule,
        which refuses Ids starting with a digit (every real Id: ``003...``); the Id is checked here instead.
        """
        if not _SALESFORCE_ID.match(sf_id):
            raise ValueError("not a Salesforce Id")
        from hooks.salesforce_soql import identifier

        body = self.hook.request(
            "GET",
            f"sobjects/Contact/{sf_id}",
            params={"fields": ",".join(identifier(f) for f in self.fields)},
        ).json()
        body.pop("attributes", None)
        return body

    def refresh(self, sf_ids: Sequence[str]) -> RefreshOutcome:
        """Re-read ``sf_ids`` from Salesforce and upsert their lookup rows; never raises on Salesforce errors."""
        remaining = self._down_until - time.monotonic()
        if remaining > 0:
            return RefreshOutcome(
                "salesforce_unavailable",
                f"Salesforce could not be reached a moment ago; not trying again for {remaining:.0f} s",
            )
        with self._lock:
            return self._refresh(sf_ids)

    def _refresh(self, sf_ids: Sequence[str]) -> RefreshOutcome:
        from contact_sync.lookup import lookup_row
        from contact_sync.state import lookup_store, sync_store
        from contact_sync.state.api_budget import SalesforceBudgetExceeded

        ensure_plugins_importable()
        from hooks.salesforce import SalesforceApiError

        rows: list[dict[str, Any]] = []
        gone: list[str] = []
        try:
            for sf_id in sf_ids:
                try:
                    record = self._get_contact(sf_id)
                except SalesforceApiError as err:
                    if err.status == 404:
                        gone.append(sf_id)
                        continue
                    raise
                rows.append(
                    lookup_row(record, display_fields=self.display_fields, default_region=self.default_region)
                )
        except SalesforceBudgetExceeded as err:
            log.info(
                "inbox: read-through skipped, Salesforce budget for 'lookup' spent (%s)", err.usage.describe()
            )
            return RefreshOutcome("budget_exhausted", "the Salesforce API budget for lookups is spent")
        except Exception as err:  # noqa: BLE001 - any failure to reach Salesforce means: answer from the table
            self._down_until = time.monotonic() + self.retry_after
            log.warning(
                "inbox: read-through failed (%s: %s); answering from the table",
                type(err).__name__,
                str(err)[:200],
            )
            return RefreshOutcome(
                "salesforce_unavailable", f"Salesforce could not be reached ({type(err).__name__})"
            )
        if rows:
            sync_store.upsert_lookup(self.engine, rows)
        if gone:
            # Deleted or merged away in Salesforce: the lookup must not show it any more (the refresh DAG would
            # remove it at its next run; doing it now keeps the inbox from showing a dead record).
            lookup_store.delete_lookup_rows(self.engine, gone)
            return RefreshOutcome(
                "not_in_salesforce", f"{len(gone)} record(s) no longer exist in Salesforce", len(rows)
            )
        return RefreshOutcome("refreshed", "refreshed from Salesforce just now", len(rows))
