"""Validation of request bodies: ContactFields, custom-field values, tag lists, field definitions."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sandbox.respond_io.errors import ApiError, validation_error
from sandbox.respond_io.identifiers import EMAIL_RE, PHONE_RE

if TYPE_CHECKING:
    from collections.abc import Mapping

__all__ = [
    "DATA_TYPES",
    "STANDARD_FIELDS",
    "ContactUpdate",
    "parse_contact_fields",
    "parse_custom_field_definition",
    "parse_tag_list",
    "validate_custom_value",
]

#: Standard (camelCase) contact fields accepted in ContactFields bodies.
STANDARD_FIELDS = ("firstName", "lastName", "email", "phone", "language", "profilePic", "countryCode")
DATA_TYPES = ("text", "list", "checkbox", "email", "number", "url", "date", "time")
_LANGUAGE_RE = re.compile(r"^[a-z]{2}$")
_COUNTRY_RE = re.compile(r"^[A-Z]{2}$")
_DATE_RE = re.compile(r"^\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])$")
_TIME_RE = re.compile(r"^([01]\d|2[0-3]):[0-5]\d(:[0-5]\d)?$")
_SLUG_RE = re.compile(r"^[A-Za-z0-9_]{1,50}$")
MAX_TAG_LENGTH = 255
MAX_TAGS_PER_REQUEST = 10


@dataclass
class ContactUpdate:
    """Parsed ContactFields: standard fields and custom fields to set (``None`` clears a value)."""

    fields: dict[str, Any] = field(default_factory=dict)
    custom_fields: dict[str, Any] = field(default_factory=dict)


def _blank(value: Any) -> bool:
    return value is None or value == ""


def parse_contact_fields(body: Any, *, require_first_name: bool) -> ContactUpdate:
    """Validate a ContactFields body (unknown keys are ignored; ``null`` or ``""`` clears a field).

    :param body: the decoded JSON body.
    :param require_first_name: creating a contact requires a non-empty ``firstName``.
    :raises ApiError: 400 "Validation error." naming the first bad field.
    """
    if body is None:
        body = {}
    if not isinstance(body, dict):
        raise validation_error("body", "body must be a JSON object")
    update = ContactUpdate()
    for name in STANDARD_FIELDS:
        if name not in body:
            continue
        value = body[name]
        if _blank(value):
            update.fields[name] = None
            continue
        if not isinstance(value, str):
            raise validation_error(name, f"{name} must be a string")
        value = value.strip()
        if name == "email" and not EMAIL_RE.match(value):
            raise validation_error(name, "email is not a valid e-mail address")
        if name == "phone" and not PHONE_RE.match(value):
            raise validation_error(name, "phone must be E.164, e.g. +60121233112")
        if name == "language" and not _LANGUAGE_RE.match(value):
            raise validation_error(name, "language must be an ISO 639-1 code, e.g. en")
        if name == "countryCode":
            value = value.upper()
            if not _COUNTRY_RE.match(value):
                raise validation_error(name, "countryCode must be an ISO 3166-1 alpha-2 code, e.g. MY")
        if name in ("firstName", "lastName") and len(value) > 255:
            raise validation_error(name, f"{name} must be at most 255 characters")
        update.fields[name] = value
    if require_first_name and not update.fields.get("firstName"):
        raise validation_error("firstName", "firstName is required")
    custom = body.get("custom_fields")
    if custom is not None:
        if not isinstance(custom, list):
            raise validation_error("custom_fields", "custom_fields must be an array of {name, value}")
        for item in custom:
            if not isinstance(item, dict) or not isinstance(item.get("name"), str) or not item["name"]:
                raise validation_error("custom_fields", "each custom field needs a string name")
            update.custom_fields[item["name"]] = item.get("value")
    return update


def validate_custom_value(slug: str, definition: Mapping[str, Any], value: Any) -> Any:
    """Check ``value`` against the field's ``dataType``; returns the value to store.

    :raises ApiError: 400 when the value does not fit the data type.
    """
    if _blank(value):
        return None
    data_type = definition["dataType"]
    where = f"custom_fields.{slug}"
    if isinstance(value, (dict, list)):
        raise validation_error(where, "value must be a string, number or boolean")
    if data_type == "number":
        if isinstance(value, bool):
            raise validation_error(where, "value must be a number")
        try:
            float(value)
        except (TypeError, ValueError):
            raise validation_error(where, "value must be a number") from None
        return value
    if data_type == "checkbox":
        if isinstance(value, bool):
            return value
        if str(value).lower() in ("true", "false"):
            return str(value).lower() == "true"
        raise validation_error(where, "value must be true or false")
    text = str(value)
    if data_type == "email" and not EMAIL_RE.match(text):
        raise validation_error(where, "value must be an e-mail address")
    if data_type == "url" and not text.startswith(("http://", "https://")):
        raise validation_error(where, "value must be an http(s) URL")
    if data_type == "date" and not _DATE_RE.match(text):
        raise validation_error(where, "value must be a date YYYY-MM-DD")
    if data_type == "time" and not _TIME_RE.match(text):
        raise validation_error(where, "value must be a time HH:MM")
    if data_type == "list":
        allowed = (definition.get("allowedValues") or {}).get("listValues") or []
        if allowed and text not in allowed:
            raise validation_error(where, "value is not one of the allowed values")
    return value


def parse_tag_list(body: Any) -> list[str]:
    """A tag add/remove body: a bare JSON array of 1–10 strings, each 1–255 characters."""
    if not isinstance(body, list):
        raise validation_error("body", "body must be a JSON array of tag names")
    if not 1 <= len(body) <= MAX_TAGS_PER_REQUEST:
        raise validation_error("body", "send between 1 and 10 tags")
    tags: list[str] = []
    for tag in body:
        if not isinstance(tag, str) or not tag.strip() or len(tag) > MAX_TAG_LENGTH:
            raise validation_error("body", "each tag must be a non-empty string of at most 255 characters")
        if tag not in tags:
            tags.append(tag)
    return tags


def parse_custom_field_definition(body: Any) -> dict[str, Any]:
    """Validate ``POST /space/custom_field``: name ≤ 50, slug ≤ 50 ``[A-Za-z0-9_]``, description ≤ 255."""
    if not isinstance(body, dict):
        raise validation_error("body", "body must be a JSON object")
    name = body.get("name")
    if not isinstance(name, str) or not name.strip() or len(name) > 50:
        raise validation_error("name", "name is required and must be at most 50 characters")
    slug = body.get("slug")
    if _blank(slug):
        slug = re.sub(r"[^A-Za-z0-9_]", "_", name.strip().lower())[:50]
    if not isinstance(slug, str) or not _SLUG_RE.match(slug):
        raise validation_error("slug", "slug must be 1-50 characters of A-Z, a-z, 0-9 and _")
    description = body.get("description") or ""
    if not isinstance(description, str) or len(description) > 255:
        raise validation_error("description", "description must be a string of at most 255 characters")
    data_type = body.get("dataType")
    if data_type not in DATA_TYPES:
        raise validation_error("dataType", "dataType must be one of " + ", ".join(DATA_TYPES))
    allowed = body.get("allowedValues")
    if isinstance(allowed, dict):
        allowed = allowed.get("listValues")
    if allowed is not None and (
        not isinstance(allowed, list) or not all(isinstance(v, str) and v for v in allowed)
    ):
        raise ApiError(400, errors=[{"field": "allowedValues", "message": "allowedValues must be strings"}])
    if data_type == "list" and not allowed:
        raise validation_error("allowedValues", "a list field needs allowedValues")
    return {
        "name": name.strip(),
        "slug": slug,
        "description": description,
        "dataType": data_type,
        "allowedValues": {"listValues": list(allowed or [])},
    }
