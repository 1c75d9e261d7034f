"""Which Salesforce fields the inbox may edit, and whether a value fits the field (pure; no I/O, no Airflow).

Checked when an edit is queued (inbox form, respond.io webhook) and again when it is applied:

- ``Email``, ``Phone``, ``MobilePhone`` and every field used as a matching key are never editable;
- the field must be in the configured editable set and ``updateable`` in the Salesforce describe;
- the value must fit the describe metadata: length, type (numbers, booleans, dates) and picklist values.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping

#: Never written back, whatever the configuration says.
NEVER_EDITABLE = frozenset({"Email", "Phone", "MobilePhone"})
#: Fields the sync matches or identifies contacts by (never editable from the inbox).
MATCHING_KEYS = frozenset({"Id", "Email", "Phone", "MobilePhone", "MailingCountry", "MailingCountryCode"})
TEXT_TYPES = frozenset(
    {"string", "textarea", "url", "email", "phone", "picklist", "multipicklist", "combobox"}
)
NUMBER_TYPES = frozenset({"int", "double", "currency", "percent"})


class EditRefused(ValueError):  # noqa: N818 - reads as an outcome: "edit refused"
    """An edit breaks a rule; ``code`` is machine-readable, the message says why in plain words."""

    def __init__(self, code: str, message: str) -> None:
        self.code = code
        super().__init__(message)


@dataclass(frozen=True)
class EditRules:
    """
    The rules of one deployment.

    :param editable: fields the configuration allows (``editable_fields``).
    :param describe_fields: the object's describe ``fields`` (list of dicts with ``name``, ``type``, ...).
    :param matching_keys: extra fields used as matching keys (refused like Email and Phone).
    """

    editable: tuple[str, ...]
    describe_fields: Mapping[str, Mapping[str, Any]]
    matching_keys: frozenset[str] = MATCHING_KEYS

    @classmethod
    def from_describe(
        cls, editable: Iterable[str], describe: Mapping[str, Any], *, extra_keys: Iterable[str] = ()
    ) -> EditRules:
        fields = {str(f["name"]): f for f in describe.get("fields") or ()}
        return cls(tuple(editable), fields, MATCHING_KEYS | frozenset(extra_keys))

    def editable_fields(self) -> tuple[str, ...]:
        """The configured fields that pass every field rule (what the sidebar offers to edit)."""
        result = []
        for name in self.editable:
            try:
                self.check_field(name)
            except EditRefused:
                continue
            result.append(name)
        return tuple(result)

    def check_field(self, field: str) -> Mapping[str, Any]:
        """The field's describe entry when the inbox may edit it; :class:`EditRefused` otherwise."""
        if field in NEVER_EDITABLE:
            raise EditRefused(
                "field_never_editable",
                f"{field} cannot be edited from the inbox: email and phone are only changed in Salesforce",
            )
        if field in self.matching_keys:
            raise EditRefused(
                "field_is_matching_key",
                f"{field} is used to match contacts and cannot be edited from the inbox",
            )
        if field not in self.editable:
            raise EditRefused("field_not_editable", f"{field} is not one of the editable fields")
        meta = self.describe_fields.get(field)
        if meta is None:
            raise EditRefused("field_unknown", f"Salesforce has no field {field} on this object")
        if not meta.get("updateable", False):
            raise EditRefused("field_not_updateable", f"{field} is read-only in Salesforce (not updateable)")
        return meta

    def check(self, field: str, value: Any) -> str | None:
        """The value to send (text, or ``None`` to clear) when the edit passes; :class:`EditRefused` otherwise."""
        meta = self.check_field(field)
        return check_value(meta, value)


def check_value(meta: Mapping[str, Any], value: Any) -> str | None:
    """Check ``value`` against one field's describe entry; returns it as text (``None`` clears the field)."""
    name = meta.get("name", "field")
    text = None if value is None else str(value).strip()
    if not text:
        if not meta.get("nillable", True):
            raise EditRefused("value_required", f"{name} cannot be empty")
        return None
    if any(ord(ch) < 32 and ch not in "\n\t" for ch in text):
        raise EditRefused("value_invalid", f"{name}: control characters are not allowed")
    kind = str(meta.get("type") or "string")
    length = int(meta.get("length") or 0)
    if kind in TEXT_TYPES and length and len(text) > length:
        raise EditRefused("value_too_long", f"{name} takes at most {length} characters ({len(text)} given)")
    if kind == "picklist":
        allowed = [str(p["value"]) for p in meta.get("picklistValues") or () if p.get("active", True)]
        if allowed and text not in allowed:
            raise EditRefused(
                "value_not_in_picklist", f"{name} must be one of: {', '.join(allowed)} (got {text[:80]!r})"
            )
    elif kind == "boolean":
        if text.lower() not in {"true", "false"}:
            raise EditRefused("value_invalid", f"{name} must be true or false")
        text = text.lower()
    elif kind in NUMBER_TYPES:
        try:
            number = float(text) if kind != "int" else int(text)
        except ValueError:
            raise EditRefused("value_invalid", f"{name} must be a number") from None
        if number != number or number in {float("inf"), float("-inf")}:  # NaN, inf
            raise EditRefused("value_invalid", f"{name} must be a finite number")
    elif kind == "date":
        try:
            date.fromisoformat(text)
        except ValueError:
            raise EditRefused("value_invalid", f"{name} must be a date YYYY-MM-DD") from None
    elif kind not in TEXT_TYPES:
        raise EditRefused("field_type_unsupported", f"{name} has type {kind}, which the inbox cannot edit")
    return text


def to_salesforce(meta: Mapping[str, Any] | None, text: str | None) -> Any:
    """The JSON value to send for a checked text value (numbers and booleans as JSON types)."""
    if text is None or meta is None:
        return text
    kind = str(meta.get("type") or "string")
    if kind == "boolean":
        return text == "true"
    if kind == "int":
        return int(text)
    if kind in NUMBER_TYPES:
        return float(text)
    return text


def as_text(value: Any) -> str | None:
    """A Salesforce value as the queue stores it (``None`` and ``""`` are both "empty")."""
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
