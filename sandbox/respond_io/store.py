"""In-memory workspace: contacts, tags and custom-field definitions.

Everything runs on the server's single event loop, so no locking is needed. A contact created through
the API becomes visible only after ``ready_at`` (the post-create processing window).
"""

from __future__ import annotations

import itertools
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sandbox.respond_io.errors import ApiError, not_found, validation_error
from sandbox.respond_io.validation import (
    STANDARD_FIELDS,
    ContactUpdate,
    parse_contact_fields,
    validate_custom_value,
)

if TYPE_CHECKING:
    from sandbox.respond_io.identifiers import Identifier

__all__ = ["Changes", "Contact", "Store"]

#: ``{"fields": {name: {"old", "new"}}, "custom_fields": {slug: {"old", "new"}}}``
Changes = dict[str, dict[str, dict[str, Any]]]


@dataclass
class Contact:
    """One contact. ``fields`` holds the camelCase standard fields; ``custom`` maps slug → value."""

    id: int
    fields: dict[str, Any]
    tags: list[str] = field(default_factory=list)
    custom: dict[str, Any] = field(default_factory=dict)
    created_at: int = 0
    ready_at: float = 0.0

    def pending(self, now: float) -> bool:
        return now < self.ready_at

    def to_json(self) -> dict[str, Any]:
        """The contact object exactly as ``GET /contact/{identifier}`` returns it."""
        get = self.fields.get
        return {
            "id": self.id,
            "firstName": get("firstName"),
            "lastName": get("lastName"),
            "phone": get("phone"),
            "email": get("email"),
            "language": get("language"),
            "profilePic": get("profilePic"),
            "countryCode": get("countryCode"),
            "status": get("status") or "open",
            "tags": list(self.tags),
            "lifecycle": get("lifecycle"),
            "assignee": get("assignee"),
            "custom_fields": [{"name": slug, "value": value} for slug, value in self.custom.items()],
            "created_at": self.created_at,
        }


def _empty_changes() -> Changes:
    return {"fields": {}, "custom_fields": {}}


def has_changes(changes: Changes) -> bool:
    return bool(changes["fields"] or changes["custom_fields"])


class Store:
    """Contacts with email/phone indexes, workspace tags and custom-field definitions."""

    def __init__(self, *, email_case_sensitive: bool = False) -> None:
        self.email_case_sensitive = email_case_sensitive
        # Ids keep counting across resets so a stale id from an earlier test never hits a new contact.
        self._contact_ids = itertools.count(100001)
        self._tag_ids = itertools.count(1)
        self._field_ids = itertools.count(1)
        self.contacts: dict[int, Contact] = {}
        self.by_email: dict[str, int] = {}
        self.by_phone: dict[str, int] = {}
        self.tags: dict[str, dict[str, Any]] = {}
        self.custom_fields: dict[int, dict[str, Any]] = {}
        self.fields_by_slug: dict[str, dict[str, Any]] = {}

    def reset(self) -> None:
        self.contacts.clear()
        self.by_email.clear()
        self.by_phone.clear()
        self.tags.clear()
        self.custom_fields.clear()
        self.fields_by_slug.clear()

    # -- lookups ---------------------------------------------------------------------------------
    def email_key(self, email: str) -> str:
        return email if self.email_case_sensitive else email.lower()

    def find(self, ident: Identifier) -> Contact | None:
        """The contact for an identifier, pending or not."""
        if ident.kind == "id":
            return self.contacts.get(ident.contact_id)
        if ident.kind == "email":
            contact_id = self.by_email.get(self.email_key(ident.value))
        else:
            contact_id = self.by_phone.get(ident.value)
        return self.contacts.get(contact_id) if contact_id is not None else None

    def ready_contacts(self, now: float | None = None) -> list[Contact]:
        now = time.monotonic() if now is None else now
        return [c for c in self.contacts.values() if not c.pending(now)]

    # -- writes ----------------------------------------------------------------------------------
    def _check_unique(self, contact_id: int | None, update: ContactUpdate) -> None:
        email = update.fields.get("email")
        if email:
            owner = self.by_email.get(self.email_key(email))
            if owner is not None and owner != contact_id:
                raise ApiError(409, "A contact with this email already exists")
        phone = update.fields.get("phone")
        if phone:
            owner = self.by_phone.get(phone)
            if owner is not None and owner != contact_id:
                raise ApiError(409, "A contact with this phone already exists")

    def _checked_custom(self, update: ContactUpdate, *, auto_create: bool = False) -> dict[str, Any]:
        values: dict[str, Any] = {}
        for slug, value in update.custom_fields.items():
            definition = self.fields_by_slug.get(slug)
            if definition is None:
                if not auto_create:
                    raise validation_error(f"custom_fields.{slug}", "unknown custom field")
                definition = self.add_custom_field(
                    {
                        "name": slug[:50],
                        "slug": slug,
                        "description": "",
                        "dataType": "text",
                        "allowedValues": {"listValues": []},
                    }
                )
            values[slug] = validate_custom_value(slug, definition, value)
        return values

    def _apply(self, contact: Contact, update: ContactUpdate, custom: dict[str, Any]) -> Changes:
        changes = _empty_changes()
        for name, new in update.fields.items():
            old = contact.fields.get(name)
            if old == new:
                continue
            if name == "email":
                if old:
                    self.by_email.pop(self.email_key(old), None)
                if new:
                    self.by_email[self.email_key(new)] = contact.id
            elif name == "phone":
                if old:
                    self.by_phone.pop(old, None)
                if new:
                    self.by_phone[new] = contact.id
            contact.fields[name] = new
            changes["fields"][name] = {"old": old, "new": new}
        for slug, new in custom.items():
            old = contact.custom.get(slug)
            if old == new and (new is not None or slug not in contact.custom):
                continue
            if new is None:
                contact.custom.pop(slug, None)
            else:
                contact.custom[slug] = new
            changes["custom_fields"][slug] = {"old": old, "new": new}
        return changes

    def create(
        self, ident: Identifier, update: ContactUpdate, *, delay: float, auto_create_fields: bool = False
    ) -> tuple[Contact, Changes]:
        """Create a contact keyed by an ``email:``/``phone:`` identifier (409 if it exists)."""
        if ident.kind == "id":
            raise validation_error("identifier", "create accepts only email: or phone: identifiers")
        if self.find(ident) is not None:
            raise ApiError(409, "Contact already exists")
        if not update.fields.get(ident.kind):
            update.fields[ident.kind] = ident.value
        self._check_unique(None, update)
        custom = self._checked_custom(update, auto_create=auto_create_fields)
        contact = Contact(
            id=next(self._contact_ids),
            fields={},
            created_at=int(time.time()),
            ready_at=time.monotonic() + max(0.0, delay),
        )
        self.contacts[contact.id] = contact
        changes = self._apply(contact, update, custom)
        return contact, changes

    def update(self, contact: Contact, update: ContactUpdate) -> Changes:
        """Apply a partial update: omitted fields stay, ``null``/``""`` clears."""
        self._check_unique(contact.id, update)
        custom = self._checked_custom(update)
        return self._apply(contact, update, custom)

    def delete(self, contact: Contact) -> None:
        self.contacts.pop(contact.id, None)
        email, phone = contact.fields.get("email"), contact.fields.get("phone")
        if email and self.by_email.get(self.email_key(email)) == contact.id:
            del self.by_email[self.email_key(email)]
        if phone and self.by_phone.get(phone) == contact.id:
            del self.by_phone[phone]

    def seed(self, data: dict[str, Any]) -> Contact:
        """Insert an already-existing contact (no create window, unknown custom fields become text fields)."""
        body = {k: v for k, v in data.items() if k in STANDARD_FIELDS}
        custom = data.get("custom_fields") or []
        if isinstance(custom, dict):
            custom = [{"name": k, "value": v} for k, v in custom.items()]
        body["custom_fields"] = custom
        update = parse_contact_fields(body, require_first_name=False)
        if not update.fields.get("email") and not update.fields.get("phone"):
            raise validation_error("body", "a seeded contact needs an email or a phone")
        self._check_unique(None, update)
        values = self._checked_custom(update, auto_create=True)
        created_at = data.get("created_at")
        contact = Contact(
            id=next(self._contact_ids),
            fields={},
            created_at=int(created_at) if created_at is not None else int(time.time()),
        )
        self.contacts[contact.id] = contact
        self._apply(contact, update, values)
        for key in ("status", "lifecycle", "assignee"):
            if key in data:
                contact.fields[key] = data[key]
        for tag in data.get("tags") or []:
            self.ensure_tag(tag)
            if tag not in contact.tags:
                contact.tags.append(tag)
        return contact

    # -- tags -------------------------------------------------------------------------------------
    def ensure_tag(self, name: str, **extra: Any) -> dict[str, Any]:
        tag = self.tags.get(name)
        if tag is None:
            tag = {
                "id": next(self._tag_ids),
                "name": name,
                "description": extra.get("description") or "",
                "colorCode": extra.get("colorCode") or "#808080",
                "emoji": extra.get("emoji") or "",
                "createdAt": int(time.time()),
            }
            self.tags[name] = tag
        return tag

    def add_tags(self, contact: Contact, tags: list[str], *, strict: bool) -> list[str]:
        missing = [t for t in tags if t not in self.tags]
        if strict and missing:
            raise validation_error("body", "tag does not exist in the workspace: " + missing[0])
        added = []
        for tag in tags:
            self.ensure_tag(tag)
            if tag not in contact.tags:
                contact.tags.append(tag)
                added.append(tag)
        return added

    def remove_tags(self, contact: Contact, tags: list[str]) -> list[str]:
        removed = [t for t in tags if t in contact.tags]
        contact.tags = [t for t in contact.tags if t not in tags]
        return removed

    def rename_tag(self, current: str, new: dict[str, Any]) -> dict[str, Any]:
        tag = self.tags.get(current)
        if tag is None:
            raise not_found("Tag not found")
        name = new.get("name") or current
        if name != current and name in self.tags:
            raise ApiError(409, "Tag already exists")
        for key in ("description", "colorCode", "emoji"):
            if new.get(key) is not None:
                tag[key] = new[key]
        if name != current:
            del self.tags[current]
            tag["name"] = name
            self.tags[name] = tag
            for contact in self.contacts.values():
                contact.tags = [name if t == current else t for t in contact.tags]
        return tag

    def delete_tag(self, name: str) -> None:
        if self.tags.pop(name, None) is None:
            raise not_found("Tag not found")
        for contact in self.contacts.values():
            if name in contact.tags:
                contact.tags.remove(name)

    # -- custom fields ------------------------------------------------------------------------------
    def add_custom_field(self, definition: dict[str, Any]) -> dict[str, Any]:
        if definition["slug"] in self.fields_by_slug:
            raise ApiError(409, "Custom field already exists")
        item = {"id": next(self._field_ids), **definition, "created_at": int(time.time())}
        self.custom_fields[item["id"]] = item
        self.fields_by_slug[item["slug"]] = item
        return item
