"""contact-sync settings: ``include/contact_sync.yaml``, a local override file, then environment variables.

Read at DAG parse time, so this touches no connection, Variable, network or database.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, fields
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

PROJECT_DIR = Path(__file__).resolve().parent.parent
DEFAULT_FILE = PROJECT_DIR / "include" / "contact_sync.yaml"
LOCAL_FILE = PROJECT_DIR / "var" / "contact_sync.local.yaml"
FALLBACK_START = datetime(2026, 11, 1, tzinfo=UTC)
#: The Airflow Asset the lookup refresh marks as updated (DAGs can be scheduled on it).
LOOKUP_ASSET_URI = "contact-sync://state/contacts_lookup"


class SettingsError(ValueError):
    """A setting has a value contact-sync cannot use; the message names the setting."""


@dataclass(frozen=True)
class Settings:
    schedule: str = "*/5 * * * *"
    start_date: datetime = FALLBACK_START
    overlap_seconds: int = 120
    chunk_size: int = 2000
    task_retry_delay_seconds: int = 30
    lease_seconds: int = 120
    include_leads: bool = False
    salesforce_conn_id: str = "salesforce_default"
    state_db_conn_id: str = "contact_sync_state"
    workspaces: tuple[str, ...] = ("respond_io_default",)
    default_region: str = "US"
    import_users: tuple[str, ...] = ()
    burst_size: int = 50
    burst_window_seconds: int = 60
    tag: str = "Auto-create: Salesforce"
    bulk_import_tag: str = ""
    salesforce_id_field: str = "sf_contact_id"
    first_name_placeholder: str = "Salesforce contact"
    overwrite_names: bool = False
    display_fields: tuple[str, ...] = ("FirstName", "LastName", "Title", "LeadSource", "MailingCountry")
    refresh_schedule: str = "* * * * *"
    refresh_overlap_seconds: int = 60
    mirror_to_respond_io: bool = True
    mirror_field_prefix: str = "sf_"
    editable_fields: tuple[str, ...] = ("Title", "Department", "LeadSource")
    writeback_conflict_policy: str = "conflict"
    writeback_batch_size: int = 2000
    writeback_max_attempts: int = 5
    writeback_retry_delay_seconds: int = 30
    writeback_fail_threshold: int = 0
    writeback_alert_threshold: int = 10
    alert_conn_id: str | None = None
    rejection_alert_share: float = 0.2
    retention_failures_days: int = 180
    retention_runs_days: int = 365
    retention_staging_days: int = 14
    retention_validation_reports_days: int = 30
    sources: tuple[str, ...] = field(default=(), compare=False)

    def __post_init__(self) -> None:
        if self.lease_seconds <= 0:
            raise SettingsError(f"setting 'lease_seconds' must be > 0, not {self.lease_seconds}")


def _read_yaml(path: Path) -> dict[str, Any]:
    import yaml

    if not path.is_file():
        return {}
    data = yaml.safe_load(path.read_text()) or {}
    if not isinstance(data, dict):
        raise SettingsError(f"{path} must hold a mapping of settings")
    return data


def _coerce(name: str, kind: Any, value: Any) -> Any:
    text = str(kind)
    try:
        if value is None or value == "":
            return None if "None" in text else _default(name)
        if "datetime" in text:
            parsed = (
                value
                if isinstance(value, datetime)
                else datetime.fromisoformat(str(value).replace("Z", "+00:00"))
            )
            return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
        if "tuple" in text:
            items = value.split(",") if isinstance(value, str) else list(value)
            return tuple(str(v).strip() for v in items if str(v).strip())
        if "bool" in text:
            return (
                value if isinstance(value, bool) else str(value).strip().lower() in {"1", "true", "yes", "on"}
            )
        if "int" in text:
            return int(value)
        if "float" in text:
            return float(value)
        return str(value)
    except (TypeError, ValueError) as err:
        raise SettingsError(f"setting '{name}' = {value!r} is not a valid {text}: {err}") from None


def _default(name: str) -> Any:
    return next(f.default for f in fields(Settings) if f.name == name)


def load_settings(environ: dict[str, str] | None = None) -> Settings:
    """Merge the settings file (``CONTACT_SYNC_CONFIG`` or include/contact_sync.yaml), the local file
    (``CONTACT_SYNC_LOCAL_CONFIG`` or var/contact_sync.local.yaml) and ``CONTACT_SYNC_*`` variables."""
    env = os.environ if environ is None else environ
    main = Path(env.get("CONTACT_SYNC_CONFIG") or DEFAULT_FILE)
    local = Path(env.get("CONTACT_SYNC_LOCAL_CONFIG") or LOCAL_FILE)
    raw: dict[str, Any] = {}
    sources = []
    for path in (main, local):
        data = _read_yaml(path)
        if data:
            sources.append(str(path))
        raw.update({k: v for k, v in data.items() if v is not None})
    known = {f.name: f.type for f in fields(Settings) if f.name != "sources"}
    unknown = sorted(set(raw) - set(known))
    if unknown:
        raise SettingsError(f"unknown setting(s) {', '.join(unknown)} in {', '.join(sources)}")
    for name in known:
        value = env.get(f"CONTACT_SYNC_{name.upper()}")
        if value is not None:
            raw[name] = value
            sources.append(f"${'CONTACT_SYNC_' + name.upper()}")
    values = {name: _coerce(name, known[name], value) for name, value in raw.items()}
    return Settings(**values, sources=tuple(sources))


def write_local_start_date(start: datetime, path: Path = LOCAL_FILE) -> bool:
    """Record the install time as ``start_date`` in the local file unless one is set; True when written."""
    import yaml

    data = _read_yaml(path)
    if data.get("start_date"):
        return False
    data["start_date"] = start.astimezone(UTC).replace(second=0, microsecond=0).isoformat()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        "# written by ./dev setup: the sync starts here (no catch-up on older history)\n"
        + yaml.safe_dump(data, sort_keys=True)
    )
    return True
