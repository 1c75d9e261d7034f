"""Small clients for the stand-in: the admin API, a trusted HTTPS session, a token, a simple-salesforce client.

Used by the test fixtures, the benchmark and the demo. Sessions set ``trust_env = False`` so that
``REQUESTS_CA_BUNDLE`` and proxies from the environment do not override ``verify=<ca_file>``.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

import requests

if TYPE_CHECKING:
    from simple_salesforce import Salesforce

DEFAULT_VERSION = "62.0"


def trusted_session(ca_file: str) -> requests.Session:
    """A ``requests.Session`` that verifies against ``ca_file`` and ignores environment settings."""
    session = requests.Session()
    session.trust_env = False
    session.verify = ca_file
    return session


def fetch_token(url: str, ca_file: str, client_id: str, client_secret: str) -> dict[str, Any]:
    """Run the client-credentials grant and return the token response."""
    with trusted_session(ca_file) as session:
        response = session.post(
            url + "/services/oauth2/token",
            data={"grant_type": "client_credentials"},
            auth=(client_id, client_secret),
            timeout=30,
        )
    response.raise_for_status()
    return response.json()


def authenticated_session(url: str, ca_file: str, client_id: str, client_secret: str) -> requests.Session:
    """A trusted session whose requests carry ``Authorization: Bearer <fresh access token>``."""
    token = fetch_token(url, ca_file, client_id, client_secret)["access_token"]
    session = trusted_session(ca_file)
    session.headers["Authorization"] = f"Bearer {token}"
    return session


def simple_salesforce_client(
    url: str, ca_file: str, client_id: str, client_secret: str, *, version: str = DEFAULT_VERSION
) -> Salesforce:
    """A ``simple_salesforce.Salesforce`` on a fresh session id + instance URL + trusted session."""
    from simple_salesforce import Salesforce

    token = fetch_token(url, ca_file, client_id, client_secret)
    return Salesforce(
        session_id=token["access_token"],
        instance_url=token["instance_url"],
        session=trusted_session(ca_file),
        version=version,
    )


class SalesforceAdmin:
    """The stand-in's ``/__admin`` API."""

    def __init__(self, url: str, ca_file: str) -> None:
        self.url = url
        self.ca_file = ca_file
        self._http = trusted_session(ca_file)

    def _call(self, method: str, path: str, body: Any = None) -> Any:
        response = self._http.request(
            method,
            self.url + "/__admin/" + path,
            data=json.dumps(body) if body is not None else None,
            headers={"Content-Type": "application/json"},
            timeout=600,
        )
        if response.status_code >= 400:
            raise RuntimeError(f"admin {method} {path} failed: {response.status_code} {response.text[:500]}")
        return response.json()

    def health(self) -> dict[str, Any]:
        return self._call("GET", "health")

    def reset(self) -> None:
        """Wipe data, counters, usage, faults and locks (configuration and sessions stay)."""
        self._call("POST", "reset")

    def load(self, sobject: str, records: Iterable[dict[str, Any]]) -> list[str]:
        """Load records (audit fields allowed) and return their ids in order."""
        return self._call("POST", "load", {"object": sobject, "records": list(records)}).get("ids", [])

    def load_contacts(self, records: Iterable[dict[str, Any]]) -> list[str]:
        return self.load("Contact", records)

    def load_leads(self, records: Iterable[dict[str, Any]]) -> list[str]:
        return self.load("Lead", records)

    def load_accounts(self, records: Iterable[dict[str, Any]]) -> list[str]:
        return self.load("Account", records)

    def load_file(self, path: str, sobject: str = "Contact") -> int:
        """Load a JSONL or CSV file that lies on the server's disk; returns the number loaded."""
        return int(self._call("POST", "load", {"object": sobject, "path": path})["loaded"])

    def edit(
        self,
        record_id: str,
        fields: dict[str, Any],
        *,
        at: str | None = None,
        sobject: str = "Contact",
        by: str | None = None,
    ) -> str:
        """Edit as a UI user would; returns the new SystemModstamp."""
        body = {"object": sobject, "id": record_id, "fields": fields, "at": at, "by": by}
        return self._call("POST", "edit", body)["SystemModstamp"]

    def delete(self, *record_ids: str, sobject: str = "Contact", at: str | None = None) -> str:
        """Soft-delete records (recycle bin); returns the deletedDate."""
        return self._call("POST", "delete", {"object": sobject, "ids": list(record_ids), "at": at})[
            "deletedDate"
        ]

    def merge(
        self, master_id: str, *loser_ids: str, sobject: str = "Contact", at: str | None = None
    ) -> dict[str, Any]:
        return self._call(
            "POST",
            "merge",
            {"object": sobject, "master_id": master_id, "loser_ids": list(loser_ids), "at": at},
        )

    def record(self, record_id: str, sobject: str = "Contact") -> dict[str, Any]:
        """The stored row (deleted too), without spending API calls."""
        return self._call("GET", f"records/{sobject}/{record_id}")

    def counters(self) -> dict[str, Any]:
        """``{"calls": {endpoint: n}, "statuses": {...}, "total", "api_usage", "api_limit"}``."""
        return self._call("GET", "counters")

    def set_faults(
        self,
        *,
        latency_ms: float | None = None,
        error_rate: float | None = None,
        burst: int | None = None,
        seed: int | None = None,
    ) -> dict[str, Any]:
        body = {"latency_ms": latency_ms, "error_rate": error_rate, "burst": burst, "seed": seed}
        return self._call("POST", "faults", body)

    def expire_sessions(self) -> int:
        return int(self._call("POST", "expire-sessions")["expired"])

    def set_api_usage(self, *, used: int | None = None, limit: int | None = None) -> dict[str, Any]:
        return self._call("POST", "api-usage", {"used": used, "limit": limit})

    def lock(self, *record_ids: str, times: int | None = None) -> None:
        """Make writes to these records fail with UNABLE_TO_LOCK_ROW (``times`` writes, or until unlocked)."""
        self._call("POST", "locks", {"ids": list(record_ids), "times": times})

    def unlock_all(self) -> None:
        self._call("DELETE", "locks")

    def issue_refresh_token(self) -> str:
        return str(self._call("POST", "refresh-tokens")["refresh_token"])
