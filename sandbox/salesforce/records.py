"""Record serialisation (REST JSON, Bulk CSV) and validation of API writes."""

from __future__ import annotations

import re
from typing import Any

from sandbox.salesforce import ids, timefmt
from sandbox.salesforce.errors import RecordError
from sandbox.salesforce.schema import Field, SObject

_EMAIL_RE = re.compile(
    r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?"
    r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)+$"
)


class RecordShape:
    """Which columns to fetch for a field list, and how to turn a fetched row into a REST/CSV record."""

    def __init__(self, sobject: SObject, fields: list[Field], version: str) -> None:
        self.sobject = sobject
        self.fields = fields
        self.url_prefix = f"/services/data/v{version}/sobjects/{sobject.name}/"
        columns: list[str] = ["Id"]
        self._plan: list[tuple[str, str, Any]] = []
        for fld in fields:
            if fld.type == "address":
                parts = []
                for key, component in fld.components:
                    if component and component not in columns:
                        columns.append(component)
                    parts.append((key, columns.index(component) if component else None))
                self._plan.append((fld.name, "address", parts))
                continue
            if fld.name not in columns:
                columns.append(fld.name)
            self._plan.append((fld.name, fld.type, columns.index(fld.name)))
        self.columns = columns

    def to_json(self, row: tuple[Any, ...]) -> dict[str, Any]:
        record: dict[str, Any] = {"attributes": {"type": self.sobject.name, "url": self.url_prefix + row[0]}}
        for name, kind, where in self._plan:
            if kind == "boolean":
                record[name] = bool(row[where])
            elif kind == "address":
                record[name] = _address(row, where)
            else:
                record[name] = row[where]
        return record

    def to_csv(self, row: tuple[Any, ...]) -> list[str]:
        out: list[str] = []
        for _name, kind, where in self._plan:
            value = row[where]
            if value is None:
                out.append("")
            elif kind == "datetime":
                out.append(timefmt.to_bulk(value))
            elif kind == "boolean":
                out.append("true" if value else "false")
            else:
                out.append(str(value))
        return out


def _address(row: tuple[Any, ...], parts: list[tuple[str, int | None]]) -> dict[str, Any] | None:
    values = {key: (row[index] if index is not None else None) for key, index in parts}
    if all(v is None for v in values.values()):
        return None
    return values


# --- validation of API writes ------------------------------------------------------------------------------


def _label(fld: Field) -> str:
    return fld.label.removesuffix(" ID") if fld.type == "reference" else fld.label


def _convert(sobject: SObject, fld: Field, value: Any) -> Any:
    """Check one incoming value and return its stored form."""
    if value is None or value == "":
        if not fld.nillable and fld.type != "boolean":
            raise RecordError(
                "REQUIRED_FIELD_MISSING", f"Required fields are missing: [{fld.name}]", [fld.name]
            )
        return 0 if fld.type == "boolean" else None
    if fld.type == "boolean":
        if not isinstance(value, bool):
            raise RecordError(
                "JSON_PARSER_ERROR",
                f"Cannot deserialize instance of boolean from VALUE_STRING value {value}",
                [],
            )
        return int(value)
    if fld.type in ("int", "double", "currency"):
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise RecordError(
                "JSON_PARSER_ERROR", f"Cannot deserialize instance of {fld.type} from {value!r}", []
            )
        return int(value) if fld.type == "int" else float(value)
    if fld.type == "datetime":
        try:
            return timefmt.canonical(str(value))
        except ValueError as exc:
            raise RecordError(
                "INVALID_TYPE_ON_FIELD_IN_RECORD",
                f"{fld.label}: value not of required type: {value}",
                [fld.name],
            ) from exc
    if fld.type == "date":
        import datetime as dt

        try:
            return dt.date.fromisoformat(str(value)).isoformat()
        except ValueError as exc:
            raise RecordError(
                "INVALID_TYPE_ON_FIELD_IN_RECORD",
                f"{fld.label}: value not of required type: {value}",
                [fld.name],
            ) from exc
    if isinstance(value, dict | list):
        raise RecordError(
            "JSON_PARSER_ERROR", f"Cannot deserialize instance of string from {type(value).__name__}", []
        )
    text = str(value)
    if fld.type == "reference":
        normal = ids.to18(text)
        if normal is None:
            raise RecordError(
                "MALFORMED_ID", f"{_label(fld)}: id value of incorrect type: {text}", [fld.name]
            )
        if not any(ids.has_prefix(normal, target) for target in fld.reference_to):
            raise RecordError(
                "FIELD_INTEGRITY_EXCEPTION", f"{_label(fld)}: id value of incorrect type: {text}", [fld.name]
            )
        return normal
    if fld.length and len(text) > fld.length:
        raise RecordError(
            "STRING_TOO_LONG",
            f"{fld.label}: data value too large: {text} (max length={fld.length})",
            [fld.name],
        )
    if fld.type == "email" and not _EMAIL_RE.match(text):
        raise RecordError("INVALID_EMAIL_ADDRESS", f"{fld.label}: invalid email address: {text}", [fld.name])
    if fld.type == "picklist" and fld.restricted_picklist and text not in {v for v, _ in fld.picklist}:
        if fld.name.endswith("CountryCode"):
            raise RecordError(
                "FIELD_INTEGRITY_EXCEPTION",
                "There's a problem with this country, even though it may appear correct. Please select a "
                f"country/territory from the list of valid countries.: {fld.label}",
                [fld.name],
            )
        raise RecordError(
            "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST",
            f"{fld.label}: bad value for restricted picklist field: {text}",
            [fld.name],
        )
    return text


def validate_write(sobject: SObject, body: dict[str, Any], *, creating: bool) -> dict[str, Any]:
    """Check a create/update body and return ``{field: stored value}``.

    ``attributes`` (and, for collections, ``id``) must already be removed by the caller.

    :raises RecordError: with Salesforce's status code for the first problem found.
    """
    resolved: list[tuple[Field, Any]] = []
    locked: list[str] = []
    for key, value in body.items():
        fld = sobject.get(key)
        if fld is None:
            raise RecordError(
                "INVALID_FIELD", f"No such column '{key}' on sobject of type {sobject.name}", []
            )
        allowed = fld.createable if creating else fld.updateable
        if not allowed:
            locked.append(fld.name)
            continue
        resolved.append((fld, value))
    if locked:
        raise RecordError(
            "INVALID_FIELD_FOR_INSERT_UPDATE",
            f"Unable to create/update fields: {', '.join(locked)}. Please check the security settings of this "
            "field and verify that it is read/write for your profile or permission set.",
            locked,
        )
    values: dict[str, Any] = {}
    for fld, value in resolved:
        values[fld.name] = _convert(sobject, fld, value)
    if creating:
        missing = [name for name in sobject.required if values.get(name) is None]
        if missing:
            raise RecordError(
                "REQUIRED_FIELD_MISSING", f"Required fields are missing: [{', '.join(missing)}]", missing
            )
    return values
