"""The lookup the inbox asks for: raw email or phone in, match status, display fields and data age out.

The raw value is normalised with exactly the sync's rules (:func:`contact_sync.normalize_email`,
:func:`contact_sync.normalize_phone`), so ``+1 (415) 555-0100`` finds the row stored as ``+14155550100``.
Freshness is measured from the refresh watermark (``watermarks.name = 'lookup_refresh'``: every Salesforce change
up to then is applied) or, when a row was re-read later (read-through, the sync), from the row's ``refreshed_at``.
"""

from __future__ import annotations

import logging
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Literal

from contact_sync import normalize_email, normalize_phone, resolve_region
from contact_sync.state import lookup_store, sync_store

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping, Sequence

    from sqlalchemy.engine import Engine

    from contact_sync_inbox.refresh import SalesforceRefresher

log = logging.getLogger(__name__)

Kind = Literal["email", "phone"]
MatchStatus = Literal["matched", "ambiguous", "not_found", "invalid_input"]
Basis = Literal["watermark", "row_refreshed_at", "salesforce", "none"]
ReadThrough = Literal[
    "not_needed", "disabled", "refreshed", "budget_exhausted", "salesforce_unavailable", "not_in_salesforce"
]

MAX_LENGTH: dict[str, int] = {"email": 320, "phone": 64}
_REGION = re.compile(r"^[A-Za-z]{2}$")


class BadInput(ValueError):
    """The request cannot be looked up at all (too long, control characters, unknown region): a 400."""

    def __init__(self, message: str, *, parameter: str) -> None:
        super().__init__(message)
        self.parameter = parameter


@dataclass(frozen=True)
class ContactView:
    """One contact as the inbox shows it."""

    sf_id: str
    fields: dict[str, Any]
    salesforce_url: str | None
    refreshed_at: datetime | None

    def as_json(self) -> dict[str, Any]:
        return {
            "sf_id": self.sf_id,
            "fields": self.fields,
            "salesforce_url": self.salesforce_url,
            "refreshed_at": _iso(self.refreshed_at),
        }


@dataclass(frozen=True)
class Freshness:
    """How old the answer's data is, and what read-through did."""

    as_of: datetime | None
    age_seconds: float | None
    basis: Basis
    read_through: ReadThrough
    message: str

    def as_json(self) -> dict[str, Any]:
        return {
            "as_of": _iso(self.as_of),
            "age_seconds": None if self.age_seconds is None else round(self.age_seconds, 3),
            "basis": self.basis,
            "read_through": self.read_through,
            "message": self.message,
        }


@dataclass(frozen=True)
class LookupResult:
    status: MatchStatus
    kind: Kind
    raw: str
    normalized: str | None
    region: str | None
    region_source: str | None
    reason: str | None
    message: str
    contacts: list[ContactView] = field(default_factory=list)
    freshness: Freshness | None = None

    def as_json(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "message": self.message,
            "query": {
                "kind": self.kind,
                "raw": self.raw,
                "normalized": self.normalized,
                "region": self.region,
                "region_source": self.region_source,
            },
            "reason": self.reason,
            "contacts": [c.as_json() for c in self.contacts],
            "freshness": None if self.freshness is None else self.freshness.as_json(),
        }


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _aware(value: datetime | str | None) -> datetime | None:
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def check_raw(value: str | None, *, kind: Kind) -> str:
    """Reject what cannot be a pasted email or phone at all (a 400), before normalising.

    :raises BadInput: empty, longer than :data:`MAX_LENGTH`, or holding control characters.
    """
    if value is None or not value.strip():
        raise BadInput(f"'{kind}' is empty", parameter=kind)
    if len(value) > MAX_LENGTH[kind]:
        raise BadInput(f"'{kind}' is longer than {MAX_LENGTH[kind]} characters", parameter=kind)
    if any(unicodedata.category(ch) in {"Cc", "Cs"} for ch in value):
        raise BadInput(f"'{kind}' contains control characters", parameter=kind)
    return value


def check_region(value: str | None) -> str | None:
    """A region given with a phone number: ISO 3166 alpha-2 that libphonenumber knows, or ``None``."""
    if value is None or value == "":
        return None
    region = resolve_region(value) if _REGION.match(value) else None
    if region is None:
        raise BadInput("'region' must be a two-letter country code such as GB or DE", parameter="region")
    return region


class LookupService:
    """
    Answers lookups from the state DB, refreshing stale contacts from Salesforce first when allowed.

    :param engine: the state DB.
    :param display_fields: Salesforce fields shown besides Email and Phone.
    :param default_region: region assumed for numbers without ``+CC`` (the sync's setting).
    :param ttl_seconds: data older than this triggers read-through.
    :param refresher: the read-through; ``None`` disables it.
    :param instance_url: returns the Salesforce org URL for links (or ``None``: no links).
    :param clock: the current time (tests).
    """

    def __init__(
        self,
        engine: Engine,
        *,
        display_fields: Sequence[str],
        default_region: str,
        ttl_seconds: float,
        refresher: SalesforceRefresher | None,
        instance_url: Callable[[], str | None],
        read_through_max_contacts: int = 3,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.engine = engine
        self.display_fields = tuple(display_fields)
        self.default_region = default_region
        self.ttl_seconds = ttl_seconds
        self.refresher = refresher
        self.instance_url = instance_url
        self.read_through_max_contacts = read_through_max_contacts
        self.clock = clock

    def lookup(self, kind: Kind, raw: str | None, *, region: str | None = None) -> LookupResult:
        """Normalise ``raw`` and look it up.

        :raises BadInput: see :func:`check_raw` and :func:`check_region`.
        """
        value = check_raw(raw, kind=kind)
        region_code = check_region(region)
        if kind == "email":
            email = normalize_email(value)
            key, verdict, reason = email.key, email.verdict, email.reason
            used_region, region_source = None, None
        else:
            phone = normalize_phone(value, region_code, default_region=self.default_region)
            key, verdict, reason = phone.key, phone.verdict, phone.reason
            used_region, region_source = phone.region, ("request" if region_code else phone.region_source)
        base = {"kind": kind, "raw": value, "region": used_region, "region_source": region_source}
        if verdict != "valid" or key is None:
            code = str(reason) if reason else "EMPTY"
            return LookupResult(
                status="invalid_input",
                normalized=None,
                reason=code,
                message=f"the {kind} cannot be normalised ({code}), so it cannot match a contact",
                **base,
            )
        rows = self._rows(kind, key)
        watermark = lookup_store.get_watermark(self.engine)
        freshness = self._freshness(rows, watermark, "not_needed", "")
        if rows and freshness.age_seconds is not None and freshness.age_seconds <= self.ttl_seconds:
            pass
        elif rows and self.refresher is None:
            freshness = self._freshness(rows, watermark, "disabled", "read-through is off")
        elif rows:
            outcome = self.refresher.refresh([r["sf_id"] for r in rows[: self.read_through_max_contacts]])
            if outcome.status in {"refreshed", "not_in_salesforce"}:
                rows = self._rows(kind, key)
            freshness = self._freshness(rows, watermark, outcome.status, outcome.message)
        status: MatchStatus
        if not rows:
            status, message = "not_found", f"no Salesforce contact has this {kind}"
        elif len(rows) == 1 and not rows[0][f"{kind}_ambiguous"]:
            status, message = "matched", f"one Salesforce contact has this {kind}"
        else:
            status, message = "ambiguous", f"{len(rows)} Salesforce contacts share this {kind}"
        return LookupResult(
            status=status,
            normalized=key,
            reason=None,
            message=message,
            contacts=[self._view(r) for r in rows],
            freshness=freshness,
            **base,
        )

    def _rows(self, kind: Kind, key: str) -> list[dict[str, Any]]:
        if kind == "email":
            return sync_store.lookup(self.engine, email_key=key)
        return sync_store.lookup(self.engine, phone_key=key)

    def _freshness(
        self, rows: list[dict[str, Any]], watermark: datetime | None, read_through: ReadThrough, note: str
    ) -> Freshness:
        now = self.clock()
        basis: Basis
        if rows:
            # The oldest contact decides; a contact re-read after the watermark is as fresh as its re-read.
            stamps = [_aware(r["refreshed_at"]) for r in rows]
            per_row = [max(s, watermark) if watermark and s else (s or watermark) for s in stamps]
            as_of = min(s for s in per_row if s is not None) if any(per_row) else None
            if read_through == "refreshed":
                basis = "salesforce"
            elif watermark is not None and as_of == watermark:
                basis = "watermark"
            else:
                basis = "row_refreshed_at"
        else:
            as_of = watermark
            basis = "watermark" if watermark else "none"
        age = None if as_of is None else max(0.0, (now - as_of).total_seconds())
        parts = []
        if basis == "none":
            parts.append("the lookup table has not been refreshed yet (no watermark)")
        elif basis == "row_refreshed_at" and watermark is None:
            parts.append(f"no refresh watermark yet: age of the row, {age:.0f} s")
        elif age is not None:
            parts.append(f"data is {age:.0f} s old")
        if note:
            parts.append(note)
        return Freshness(as_of, age, basis, read_through, "; ".join(parts))

    def _view(self, row: Mapping[str, Any]) -> ContactView:
        stored = row.get("fields") or {}
        if isinstance(stored, str):
            import json

            stored = json.loads(stored)
        shown: dict[str, Any] = {
            "Email": stored.get("Email") or row.get("email_key"),
            "Phone": stored.get("Phone") or row.get("phone_key"),
        }
        for name in self.display_fields:
            if name in shown:
                continue
            if name == "FirstName":
                shown[name] = stored.get(name, row.get("first_name"))
            elif name == "LastName":
                shown[name] = stored.get(name, row.get("last_name"))
            else:
                shown[name] = stored.get(name)
        base = self.instance_url()
        url = f"{base}/lightning/r/Contact/{row['sf_id']}/view" if base else None
        return ContactView(row["sf_id"], shown, url, _aware(row.get("refreshed_at")))
