"""Bulk-import detection: import users and bursts of contacts created by one user.

A contact is bulk-imported when its ``CreatedById`` is a configured import user (rule ``IMPORT_USER``), or when
it belongs to a burst (rule ``BURST``): at least ``burst_size`` contacts created by the same user with
``CreatedDate`` values spanning at most ``burst_window_seconds``. Contacts created shortly *before* the batch
(the look-back list, from Salesforce or the state DB) count towards a burst, so a burst that straddles a window
boundary is still recognised; they are not themselves reported.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from contact_sync.timestamps import parse_sf_datetime

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping

__all__ = ["BulkConfig", "BulkRule", "detect_bulk_imports"]


class BulkRule(StrEnum):
    """Which rule flagged a contact as bulk-imported."""

    IMPORT_USER = "IMPORT_USER"
    BURST = "BURST"


@dataclass(frozen=True, slots=True)
class BulkConfig:
    """Bulk-import detection settings.

    :param import_users: Salesforce User Ids (``005…``) of integration / data-loader users.
    :param burst_size: contacts by one user within the window that make a burst (default 50).
    :param burst_window_seconds: width of the burst window in seconds (default 60); also how far the caller
        must look back before its sync window.
    """

    import_users: frozenset[str] = field(default_factory=frozenset)
    burst_size: int = 50
    burst_window_seconds: float = 60.0

    def __post_init__(self) -> None:
        if self.burst_size < 1:
            raise ValueError("burst_size must be at least 1")
        if self.burst_window_seconds < 0:
            raise ValueError("burst_window_seconds must not be negative")
        object.__setattr__(self, "import_users", frozenset(self.import_users))


def _user_id(user: object) -> str | None:
    return user if isinstance(user, str) and user else None


def detect_bulk_imports(
    contacts: Iterable[Mapping[str, Any]],
    *,
    config: BulkConfig | None = None,
    lookback: Iterable[Mapping[str, Any]] = (),
) -> dict[str, BulkRule]:
    """Flag bulk-imported contacts of a batch.

    :param contacts: the batch (dicts with ``Id``, ``CreatedById``, ``CreatedDate``).
    :param config: detection settings; defaults to :class:`BulkConfig` defaults.
    :param lookback: contacts created up to ``burst_window_seconds`` before the batch's window (same shape);
        rows whose ``Id`` is also in the batch are ignored.
    :return: ``{Id: rule}`` for every flagged contact of the batch; unflagged contacts are absent.
        ``IMPORT_USER`` takes precedence over ``BURST``.
    """
    config = config or BulkConfig()
    flagged: dict[str, BulkRule] = {}
    by_user: dict[str, list[tuple[float, str, bool]]] = defaultdict(list)
    batch_ids: set[str] = set()
    for contact in contacts:
        sf_id = contact.get("Id")
        if not isinstance(sf_id, str) or sf_id in batch_ids:
            continue
        batch_ids.add(sf_id)
        user = _user_id(contact.get("CreatedById"))
        if user is None:
            continue
        if user in config.import_users:
            flagged[sf_id] = BulkRule.IMPORT_USER
        created = parse_sf_datetime(contact.get("CreatedDate"))
        if created is not None:
            by_user[user].append((created.timestamp(), sf_id, True))
    for earlier in lookback:
        sf_id = earlier.get("Id")
        user = _user_id(earlier.get("CreatedById"))
        created = parse_sf_datetime(earlier.get("CreatedDate"))
        if user is None or created is None or (isinstance(sf_id, str) and sf_id in batch_ids):
            continue
        by_user[user].append((created.timestamp(), str(sf_id), False))
    for events in by_user.values():
        if len(events) < config.burst_size:
            continue
        events.sort()
        _mark_bursts(events, config, flagged)
    return flagged


def _mark_bursts(
    events: list[tuple[float, str, bool]], config: BulkConfig, flagged: dict[str, BulkRule]
) -> None:
    """Two-pointer sweep: mark every event inside a span of ≤ W seconds holding ≥ N events (linear time)."""
    left = 0
    next_unmarked = 0
    for right, (stamp, _, _) in enumerate(events):
        while stamp - events[left][0] > config.burst_window_seconds:
            left += 1
        if right - left + 1 >= config.burst_size:
            for index in range(max(left, next_unmarked), right + 1):
                _, sf_id, in_batch = events[index]
                if in_batch:
                    flagged.setdefault(sf_id, BulkRule.BURST)
            next_unmarked = right + 1
