"""
SalesforceContactsHook: the one way contact-sync talks to Salesforce.

It extends the provider's :class:`SalesforceHook` (so ``describe_object``, ``make_query`` and friends keep
working) and adds what a long-running sync needs:

- OAuth 2.0 client credentials (or JWT bearer with a private key) against the org's My Domain URL, the token
  cached per hook and refreshed once on ``INVALID_SESSION_ID``; simple-salesforce gets the session id;
- TLS through a ``requests.Session`` with ``trust_env=False`` and an optional CA file (``ca_file`` extra), never
  with verification turned off;
- streaming reads of a half-open window ``[start, end)`` on ``CreatedDate`` or ``SystemModstamp``, page by page
  (REST) or through a Bulk API 2.0 query job for large windows, with the same generator interface;
- composite updates of up to 200 records per call with one result per record;
- the shared API budget (counted in the state DB) and a describe cache across runs.

Connection (type ``salesforce``), extras:

========================  ===========================================================================
``instance_url``          the org's My Domain URL, e.g. ``https://acme.my.salesforce.com`` (required)
``consumer_key``          connected app's client id (required)
``consumer_secret``       its client secret (client-credentials flow)
``private_key`` /         PEM key (or its path) for the JWT bearer flow; Login = the Salesforce username
``private_key_file_path``
``ca_file``               CA bundle to trust (the local stand-in's CA); empty for real orgs
``version``               API version, default ``62.0``
``bulk_threshold``        rows above which a window is read with Bulk API 2.0 (default 50000)
``budget_ceiling``        share of the org's daily allocation contact-sync may use (default 0.8)
``budget_shares``         ``{"sync": 0.4, "refresh": 0.3, "lookup": 0.1, "writeback": 0.2}``
``describe_ttl_hours``    how long describe results are reused (default 24)
========================  ===========================================================================
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from airflow.providers.salesforce.hooks.salesforce import SalesforceHook

from contact_sync.lookup import parse_salesforce_datetime  # noqa: F401 - re-exported for callers
from hooks.salesforce_auth import AccessToken, OAuthSettings, SalesforceAuthError, fetch_token
from hooks.salesforce_soql import count_query, identifier, select_query, window_where
from hooks.salesforce_soql import record_id as soql_record_id

if TYPE_CHECKING:
    import requests
    from simple_salesforce import Salesforce

    from contact_sync.state.api_budget import ApiBudget, BudgetUsage

log = logging.getLogger(__name__)

DEFAULT_API_VERSION = "62.0"
DEFAULT_BULK_THRESHOLD = 50_000
COMPOSITE_CHUNK = 200
CONTACT_FIELDS: tuple[str, ...] = (
    "Id",
    "FirstName",
    "LastName",
    "Email",
    "Phone",
    "MobilePhone",
    "MailingCountry",
    "MailingCountryCode",
    "LeadSource",
    "CreatedDate",
    "CreatedById",
    "SystemModstamp",
)
LEAD_FIELDS: tuple[str, ...] = (
    "Id",
    "FirstName",
    "LastName",
    "Email",
    "Phone",
    "MobilePhone",
    "Country",
    "CountryCode",
    "LeadSource",
    "CreatedDate",
    "CreatedById",
    "SystemModstamp",
)
TRANSIENT_CODES = frozenset({"SERVER_UNAVAILABLE", "API_TEMPORARILY_UNAVAILABLE", "UNABLE_TO_LOCK_ROW"})
_LIMIT_INFO = re.compile(r"api-usage=(\d+)/(\d+)")

Cursor = Literal["CreatedDate", "SystemModstamp"]


class SalesforceApiError(RuntimeError):
    """A Salesforce REST call failed; ``code`` is Salesforce's ``errorCode``."""

    def __init__(self, status: int, code: str, message: str, url: str) -> None:
        self.status, self.code, self.message = status, code, message
        super().__init__(f"Salesforce {status} {code}: {message} ({url})")

    @property
    def transient(self) -> bool:
        return self.status >= 500 or self.code in TRANSIENT_CODES


class UnknownSalesforceFieldError(ValueError):
    """Fields asked for do not exist on the object (checked against describe)."""


@dataclass(frozen=True)
class UpdateResult:
    """One record's outcome of a composite update."""

    id: str
    success: bool
    error_code: str | None = None
    message: str | None = None
    fields: tuple[str, ...] = ()


@dataclass
class ReadStats:
    """What a streaming read did (for logs and run summaries)."""

    mode: str = "rest"
    estimated: int | None = None
    records: int = 0
    pages: int = 0
    duplicates_skipped: int = 0
    resumed: int = 0


class SalesforceContactsHook(SalesforceHook):
    """
    Streams Contacts/Leads from Salesforce and writes field updates back, within the shared API budget.

    :param salesforce_conn_id: Salesforce connection (see the module docstring for its extras).
    :param consumer: who is calling, for the API budget (``sync``, ``refresh``, ``lookup``, ``writeback``).
    :param state_db_conn_id: state DB connection for the budget and the describe cache; None keeps both in
        memory (tests, ad-hoc use).
    :param page_size: REST page size asked with ``Sforce-Query-Options`` (200..2000).
    :param timeout: seconds per HTTP request.
    """

    conn_name_attr = "salesforce_conn_id"
    default_conn_name = "salesforce_default"
    conn_type = "salesforce"
    hook_name = "Salesforce (contact-sync)"

    def __init__(
        self,
        salesforce_conn_id: str = default_conn_name,
        *,
        consumer: str = "sync",
        state_db_conn_id: str | None = "contact_sync_state",
        page_size: int = 2000,
        timeout: float = 60.0,
        max_transient_retries: int = 4,
    ) -> None:
        super().__init__(salesforce_conn_id=salesforce_conn_id)
        del self.session  # SalesforceHook sets it to None; ours is built lazily (cached_property below)
        self.consumer = consumer
        self.state_db_conn_id = state_db_conn_id
        self.page_size = page_size
        self.timeout = timeout
        self.max_transient_retries = max_transient_retries
        self._token: AccessToken | None = None
        self.authentications = 0
        self._describe: dict[str, dict[str, Any]] = {}
        self.last_read: ReadStats | None = None

    # -- configuration ---------------------------------------------------------------------------------

    @cached_property
    def extras(self) -> dict[str, Any]:
        connection = self.get_connection(self.conn_id)
        extras = dict(connection.extra_dejson)
        extras["_login"] = connection.login
        return extras

    def _extra(self, name: str) -> Any:
        return self._get_field(self.extras, name)

    @property
    def api_version(self) -> str:
        return str(self._extra("version") or DEFAULT_API_VERSION)

    @cached_property
    def oauth_settings(self) -> OAuthSettings:
        from airflow.sdk.log import mask_secret

        my_domain = self._extra("instance_url")
        client_id = self._extra("consumer_key")
        missing = [
            name for name, value in (("instance_url", my_domain), ("consumer_key", client_id)) if not value
        ]
        if missing:
            raise SalesforceAuthError(
                f"Salesforce connection '{self.conn_id}' is missing the extra(s) {', '.join(missing)} "
                "(My Domain URL and connected app client id)."
            )
        private_key = self._extra("private_key")
        key_path = self._extra("private_key_file_path")
        if not private_key and key_path:
            private_key = Path(key_path).read_text()
        secret = self._extra("consumer_secret")
        for value in (secret, private_key):
            if value:
                mask_secret(value)
        return OAuthSettings(
            my_domain_url=str(my_domain).rstrip("/"),
            client_id=str(client_id),
            client_secret=secret,
            username=self.extras.get("_login"),
            private_key=private_key,
            audience=str(self._extra("jwt_audience") or "https://login.salesforce.com"),
        )

    @cached_property
    def session(self) -> requests.Session:  # type: ignore[override]
        """One HTTP session per hook: env proxies/CA variables ignored, the connection's CA trusted."""
        import requests

        session = requests.Session()
        session.trust_env = False
        ca_file = self._extra("ca_file")
        if ca_file:
            if not Path(ca_file).is_file():
                raise SalesforceAuthError(
                    f"CA file named in connection '{self.conn_id}' does not exist: {ca_file}"
                )
            session.verify = str(ca_file)
        return session

    @cached_property
    def budget(self) -> ApiBudget:
        from contact_sync.state.api_budget import ApiBudget, BudgetPolicy

        shares = self._extra("budget_shares")
        policy = BudgetPolicy(
            ceiling=float(self._extra("budget_ceiling") or 0.8),
            **({"shares": dict(shares)} if isinstance(shares, Mapping) else {}),
        )
        engine = None
        if self.state_db_conn_id:
            from hooks.state_db import StateDbHook

            engine = StateDbHook(state_db_conn_id=self.state_db_conn_id).engine
        return ApiBudget(engine, self.consumer, policy)

    # -- authentication and the simple-salesforce client ------------------------------------------------

    def _access_token(self) -> AccessToken:
        if self._token is None:
            from airflow.sdk.log import mask_secret

            self._token = fetch_token(self.session, self.oauth_settings, timeout=self.timeout)
            self.authentications += 1
            mask_secret(self._token.access_token)
            self.log.info(
                "Salesforce: authenticated with %s at %s", self.oauth_settings.flow, self._token.instance_url
            )
        return self._token

    def _reauthenticate(self) -> None:
        self._token = None
        self.__dict__.pop("conn", None)

    @cached_property
    def conn(self) -> Salesforce:
        """A simple-salesforce client on our session and OAuth token (no login of its own)."""
        from simple_salesforce import Salesforce

        token = self._access_token()
        return Salesforce(
            session_id=token.access_token,
            instance_url=token.instance_url,
            version=self.api_version,
            session=self.session,
        )

    def get_conn(self) -> Salesforce:
        return self.conn

    @property
    def base_url(self) -> str:
        return f"{self._access_token().instance_url}/services/data/v{self.api_version}"

    # -- one place for every REST call: auth, retries, budget, error classification ---------------------

    def request(
        self, method: str, path: str, *, check_budget: bool = True, **kwargs: Any
    ) -> requests.Response:
        """Call ``path`` (relative to ``/services/data/vXX.X`` or starting with ``/services/``).

        Re-authenticates once on ``INVALID_SESSION_ID``, retries transient failures with backoff, counts the
        call in the API budget, and raises :class:`SalesforceApiError` with Salesforce's error code otherwise.
        """
        import requests

        if check_budget:
            self.budget.check()
        extra_headers = kwargs.pop("headers", {})
        reauthenticated = False
        attempt = 0
        while True:
            url = self._url(path)
            headers = {"Authorization": f"Bearer {self._access_token().access_token}", **extra_headers}
            try:
                response = self.session.request(method, url, headers=headers, timeout=self.timeout, **kwargs)
            except (requests.ConnectionError, requests.Timeout) as err:
                if attempt >= self.max_transient_retries:
                    raise
                attempt += 1
                self._backoff(attempt, f"{type(err).__name__} on {method} {_safe(path)}")
                continue
            self._count(response)
            if response.status_code < 300:
                return response
            error = _api_error(response)
            if error.code == "INVALID_SESSION_ID" and not reauthenticated:
                self.log.info("Salesforce: session expired, authenticating again")
                self._reauthenticate()
                reauthenticated = True
            elif error.transient and attempt < self.max_transient_retries:
                attempt += 1
                self._backoff(attempt, str(error))
            else:
                raise error

    def _url(self, path: str) -> str:
        if path.startswith("http"):
            return path
        if path.startswith("/services/"):
            return self._access_token().instance_url + path
        return f"{self.base_url}/{path.lstrip('/')}"

    def _backoff(self, attempt: int, why: str) -> None:
        import random

        delay = min(30.0, 0.5 * 2 ** (attempt - 1)) * (0.5 + random.random() / 2)  # noqa: S311
        self.log.warning("Salesforce: %s; retry %d in %.1fs", why, attempt, delay)
        time.sleep(delay)

    def _count(self, response: requests.Response) -> None:
        match = _LIMIT_INFO.search(response.headers.get("Sforce-Limit-Info", ""))
        used, allocation = (int(match.group(1)), int(match.group(2))) if match else (None, None)
        self.budget.record(1, used=used, allocation=allocation)

    def budget_usage(self) -> BudgetUsage:
        return self.budget.usage()

    # -- describe ---------------------------------------------------------------------------------------

    def describe(self, sobject: str) -> dict[str, Any]:
        """``sobjects/{sobject}/describe``, cached in the hook and (with a state DB) across runs."""
        if sobject in self._describe:
            return self._describe[sobject]
        from contact_sync.state import describe_cache

        ttl = timedelta(hours=float(self._extra("describe_ttl_hours") or 24))
        engine = self.budget.engine
        instance = self._access_token().instance_url
        body = describe_cache.load(engine, instance, sobject, self.api_version, ttl) if engine else None
        if body is None:
            body = self.request("GET", f"sobjects/{identifier(sobject)}/describe").json()
            if engine:
                describe_cache.store(engine, instance, sobject, self.api_version, body)
        self._describe[sobject] = body
        return body

    def describe_object(self, obj: str) -> dict:
        return self.describe(obj)

    def field_types(self, sobject: str) -> dict[str, str]:
        return {f["name"]: f["type"] for f in self.describe(sobject)["fields"]}

    def check_fields(self, sobject: str, fields: Sequence[str]) -> None:
        """Raise :class:`UnknownSalesforceFieldError` naming every field ``sobject`` does not have."""
        known = self.field_types(sobject)
        lowered = {name.lower() for name in known}
        unknown = [f for f in fields if f.lower() not in lowered]
        if unknown:
            raise UnknownSalesforceFieldError(
                f"{sobject} has no field(s) {', '.join(unknown)} in this org (API v{self.api_version}); "
                "fix the configured field list. Fields available include: " + ", ".join(sorted(known)[:40])
            )

    # -- reading ----------------------------------------------------------------------------------------

    def count(self, sobject: str, where: str, *, include_deleted: bool = False) -> int:
        endpoint = "queryAll" if include_deleted else "query"
        return int(
            self.request("GET", endpoint, params={"q": count_query(sobject, where)}).json()["totalSize"]
        )

    def stream_window(
        self,
        start: datetime,
        end: datetime,
        *,
        sobject: str = "Contact",
        fields: Sequence[str] | None = None,
        cursor: Cursor = "CreatedDate",
        overlap: timedelta = timedelta(0),
        filters: Mapping[str, Any] | None = None,
        include_deleted: bool = False,
        bulk_threshold: int | None = None,
    ) -> Iterator[dict[str, Any]]:
        """Yield records whose ``cursor`` lies in ``[start - overlap, end)``, ordered by ``(cursor, Id)``.

        Memory stays flat: records come out page by page. Windows estimated above ``bulk_threshold`` rows
        (``SELECT COUNT()``) are read through a Bulk API 2.0 query job instead, with the same output.
        ``include_deleted`` reads with ``queryAll`` (soft-deleted rows carry ``IsDeleted``).
        """
        fields = list(fields or (LEAD_FIELDS if sobject == "Lead" else CONTACT_FIELDS))
        for required in ("Id", cursor):
            if required not in fields:
                fields.append(required)
        if include_deleted and "IsDeleted" not in fields:
            fields.append("IsDeleted")
        self.check_fields(sobject, fields)
        lower = start - overlap
        where = window_where(cursor, lower, end, filters=filters)
        threshold = (
            bulk_threshold
            if bulk_threshold is not None
            else int(self._extra("bulk_threshold") or DEFAULT_BULK_THRESHOLD)
        )
        stats = self.last_read = ReadStats()
        stats.estimated = self.count(sobject, where, include_deleted=include_deleted)
        compound = [
            f for f, t in self.field_types(sobject).items() if t in {"address", "location"} and f in fields
        ]
        if stats.estimated > threshold and not compound:
            stats.mode = "bulk2"
            self.log.info(
                "Salesforce: %s rows in window, reading %s with Bulk API 2.0", stats.estimated, sobject
            )
            from hooks.salesforce_bulk import BulkQueryReader

            reader = BulkQueryReader(self, sobject=sobject, field_types=self.field_types(sobject))
            soql = select_query(sobject, fields, where, [cursor, "Id"])
            for record in reader.read(soql, include_deleted=include_deleted):
                stats.records += 1
                yield record
            stats.pages = reader.pages
            return
        self.log.info("Salesforce: %s rows in window, reading %s page by page", stats.estimated, sobject)
        yield from self._stream_rest(sobject, fields, cursor, lower, end, filters, include_deleted, stats)

    def _stream_rest(
        self,
        sobject: str,
        fields: list[str],
        cursor: str,
        lower: datetime,
        end: datetime,
        filters: Mapping[str, Any] | None,
        include_deleted: bool,
        stats: ReadStats,
    ) -> Iterator[dict[str, Any]]:
        endpoint = "queryAll" if include_deleted else "query"
        # Keyset state: the last cursor value emitted and the Ids emitted with it. If a query locator dies
        # mid-read we re-query from that value and skip those Ids, so nothing is lost or repeated.
        last_value: str | None = None
        ids_at_last: set[str] = set()
        after: datetime | None = None
        while True:
            where = window_where(cursor, lower, end, filters=filters, after=after)
            pages = self._query_pages(endpoint, select_query(sobject, fields, where, [cursor, "Id"]))
            try:
                for page in pages:
                    stats.pages += 1
                    for record in page["records"]:
                        record.pop("attributes", None)
                        value = record[cursor]
                        if value == last_value and record["Id"] in ids_at_last:
                            stats.duplicates_skipped += 1
                            continue
                        if value != last_value:
                            last_value, ids_at_last = value, set()
                        ids_at_last.add(record["Id"])
                        stats.records += 1
                        yield record
                return
            except SalesforceApiError as err:
                if err.code != "INVALID_QUERY_LOCATOR" or last_value is None:
                    raise
                stats.resumed += 1
                after = parse_salesforce_datetime(last_value)
                self.log.warning(
                    "Salesforce: query locator expired; resuming from %s = %s", cursor, last_value
                )
            finally:
                pages.close()

    def _query_pages(self, endpoint: str, soql: str) -> Iterator[dict[str, Any]]:
        """Yield the pages of one query, fetching page n+1 in the background while page n is consumed.

        At most one page is read ahead, so memory stays at two pages; an error (budget, expired locator)
        surfaces between pages, when the caller asks for the page that failed.
        """
        from concurrent.futures import ThreadPoolExecutor

        headers = {"Sforce-Query-Options": f"batchSize={self.page_size}"}
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="salesforce-prefetch") as prefetch:
            future = prefetch.submit(self._get_json, endpoint, {"q": soql}, headers)
            while future is not None:
                page = future.result()
                next_url = None if page.get("done", True) else page.get("nextRecordsUrl")
                future = prefetch.submit(self._get_json, next_url, None, headers) if next_url else None
                try:
                    yield page
                except GeneratorExit:
                    if future is not None:
                        future.cancel()
                    raise

    def _get_json(self, path: str, params: dict[str, Any] | None, headers: dict[str, str]) -> dict[str, Any]:
        import msgspec

        return msgspec.json.decode(self.request("GET", path, params=params, headers=headers).content)

    def records_by_id(
        self, ids: Sequence[str], *, sobject: str = "Contact", fields: Sequence[str] | None = None
    ) -> Iterator[dict[str, Any]]:
        """Yield the records with these Ids (``Id IN (...)`` in chunks of 200, well under the URI limit)."""
        from hooks.salesforce_soql import equals_filter

        fields = list(fields or (LEAD_FIELDS if sobject == "Lead" else CONTACT_FIELDS))
        self.check_fields(sobject, fields)
        for start in range(0, len(ids), 200):
            where = equals_filter({"Id": list(ids[start : start + 200])})[0]
            for page in self._query_pages("query", select_query(sobject, fields, where)):
                for record in page["records"]:
                    record.pop("attributes", None)
                    yield record

    def deleted_ids(
        self, start: datetime, end: datetime, *, sobject: str = "Contact"
    ) -> list[dict[str, str]]:
        """``sobjects/{sobject}/deleted/?start=&end=`` -> ``[{"id", "deletedDate"}]`` (≤ 15 days back)."""
        from hooks.salesforce_soql import soql_datetime

        body = self.request(
            "GET",
            f"sobjects/{identifier(sobject)}/deleted/",
            params={"start": soql_datetime(start), "end": soql_datetime(end)},
        ).json()
        return list(body.get("deletedRecords", []))

    # -- writing ----------------------------------------------------------------------------------------

    def update_fields(
        self, changes: Sequence[Mapping[str, Any]], *, sobject: str = "Contact"
    ) -> list[UpdateResult]:
        """Apply ``[{"Id": .., field: value, ..}]`` with ``composite/sobjects`` (≤ 200 per call, allOrNone off).

        Returns one :class:`UpdateResult` per input record, in input order; a record Salesforce rejects is a
        result with its error code, never an exception.
        """
        results: list[UpdateResult] = []
        for offset in range(0, len(changes), COMPOSITE_CHUNK):
            chunk = changes[offset : offset + COMPOSITE_CHUNK]
            records = [
                {
                    "attributes": {"type": sobject},
                    "id": change["Id"],
                    **{k: v for k, v in change.items() if k != "Id"},
                }
                for change in chunk
            ]
            body = self.request(
                "PATCH", "composite/sobjects", json={"allOrNone": False, "records": records}
            ).json()
            for change, outcome in zip(chunk, body, strict=True):
                errors = outcome.get("errors") or []
                first = errors[0] if errors else {}
                results.append(
                    UpdateResult(
                        id=outcome.get("id") or change["Id"],
                        success=bool(outcome.get("success")),
                        error_code=first.get("statusCode"),
                        message=first.get("message"),
                        fields=tuple(first.get("fields") or ()),
                    )
                )
        return results

    def get_record(
        self, record_id: str, fields: Sequence[str], *, sobject: str = "Contact"
    ) -> dict[str, Any]:
        body = self.request(
            "GET",
            f"sobjects/{identifier(sobject)}/{soql_record_id(record_id)}",
            params={"fields": ",".join(identifier(f) for f in fields)},
        ).json()
        body.pop("attributes", None)
        return body

    # -- connection test ----------------------------------------------------------------------------------

    def test_connection(self) -> tuple[bool, str]:
        try:
            fields = self.field_types("Contact")
            usage = self.budget_usage()
        except SalesforceAuthError as err:
            return False, str(err)
        except SalesforceApiError as err:
            return False, f"authenticated, but Salesforce answered {err.status} {err.code}: {err.message}"
        except Exception as err:  # noqa: BLE001 - reported in plain words
            return False, f"cannot reach Salesforce ({type(err).__name__}: {str(err)[:200]})"
        org = f"{usage.org_used:,}/{usage.allocation:,} API calls used today" if usage.allocation else ""
        return (
            True,
            f"Salesforce reachable at {self._access_token().instance_url}: Contact has {len(fields)} fields. {org}",
        )


def _api_error(response: requests.Response) -> SalesforceApiError:
    try:
        body = response.json()
    except ValueError:
        body = None
    if isinstance(body, list) and body and isinstance(body[0], dict):
        code, message = body[0].get("errorCode", "UNKNOWN"), body[0].get("message", "")
    elif isinstance(body, dict):
        code = body.get("errorCode") or body.get("error") or "UNKNOWN"
        message = body.get("message") or body.get("error_description") or ""
    else:
        code, message = "UNKNOWN", response.text[:200]
    return SalesforceApiError(response.status_code, str(code), str(message), _safe(response.url))


def _safe(url: str) -> str:
    """URL without its query string (SOQL can hold personal data)."""
    return url.split("?", 1)[0]
