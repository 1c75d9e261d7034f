"""Configuration of the inbox service: settings, the API token, the users and the session secret.

Sources, later ones overriding earlier ones:

1. contact-sync settings (``include/contact_sync.yaml`` + ``CONTACT_SYNC_*``): display fields, default region,
   the Salesforce and state DB connection ids;
2. an Airflow connection (when ``airflow_conn_id`` is given, e.g. inside the api-server): password = API token,
   extras = any setting below (``users`` as a mapping, ``session_secret``, ...);
3. a secrets file named by ``CONTACT_SYNC_INBOX_SECRETS_FILE`` (JSON or YAML mapping of the same keys);
4. environment variables ``CONTACT_SYNC_INBOX_<KEY>``; for secrets also ``CONTACT_SYNC_INBOX_<KEY>_FILE``
   (a file holding the value, e.g. a Docker/Kubernetes secret).

Error messages name settings, never their values.
"""

from __future__ import annotations

import json
import logging
import os
import re
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from contact_sync_inbox.passwords import InvalidPasswordHashError, parse_hash

if TYPE_CHECKING:
    from collections.abc import Mapping

log = logging.getLogger(__name__)

ENV_PREFIX = "CONTACT_SYNC_INBOX_"
SECRETS_FILE_ENV = "CONTACT_SYNC_INBOX_SECRETS_FILE"
DEFAULT_DISPLAY_FIELDS = ("FirstName", "LastName", "Title", "LeadSource", "MailingCountry")
SECRET_KEYS = frozenset({"api_token", "session_secret", "users"})
_USER_NAME = re.compile(r"^[A-Za-z0-9_.@-]{1,64}$")
_FIELD_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,79}$")


class InboxConfigError(ValueError):
    """A setting of the inbox service is missing or unusable; the message names it (never its value)."""


@dataclass(frozen=True)
class InboxConfig:
    """Everything the inbox app needs. Build it with :func:`load_config` (or directly in tests)."""

    api_token: str | None = field(default=None, repr=False)
    users: dict[str, str] = field(default_factory=dict, repr=False)
    session_secret: str | None = field(default=None, repr=False)
    session_max_age_seconds: int = 8 * 3600
    cookie_secure: Literal["auto", "true", "false"] = "auto"
    ttl_seconds: float = 60.0
    read_through: bool = True
    read_through_max_contacts: int = 3
    salesforce_timeout_seconds: float = 5.0
    salesforce_retry_after_seconds: float = 30.0
    salesforce_conn_id: str = "salesforce_default"
    salesforce_instance_url: str | None = None
    state_db_conn_id: str = "contact_sync_state"
    state_db_url: str | None = field(default=None, repr=False)
    display_fields: tuple[str, ...] = DEFAULT_DISPLAY_FIELDS
    default_region: str = "US"
    workspace: str | None = None
    login_attempts_per_minute: int = 10

    def __post_init__(self) -> None:
        for name, hashed in self.users.items():
            if not _USER_NAME.match(name):
                raise InboxConfigError(f"inbox user name {name[:64]!r} may only use letters, digits, _ . @ -")
            try:
                parse_hash(hashed)
            except InvalidPasswordHashError as err:
                raise InboxConfigError(
                    f"the password hash of inbox user '{name}' is unusable ({err}); make one with "
                    "`python -m contact_sync_inbox.hash_password`"
                ) from None
        bad = [f for f in self.display_fields if not _FIELD_NAME.match(f)]
        if bad:
            raise InboxConfigError(f"display_fields has names that are not Salesforce field names: {bad}")
        if self.cookie_secure not in {"auto", "true", "false"}:
            raise InboxConfigError("cookie_secure must be auto, true or false")
        if self.ttl_seconds < 0:
            raise InboxConfigError("ttl_seconds must not be negative")


def _settings_defaults() -> dict[str, Any]:
    """Values shared with the rest of contact-sync; ``display_fields`` falls back while settings lack it."""
    from contact_sync.settings import load_settings

    settings = load_settings()
    return {
        "display_fields": tuple(getattr(settings, "display_fields", DEFAULT_DISPLAY_FIELDS)),
        "default_region": settings.default_region,
        "salesforce_conn_id": settings.salesforce_conn_id,
        "state_db_conn_id": settings.state_db_conn_id,
    }


def parse_users(value: Any) -> dict[str, str]:
    """``{"alice": "scrypt$..."}`` or ``"alice:scrypt$...,bob:scrypt$..."`` (the environment form)."""
    if isinstance(value, dict):
        return {str(k): str(v) for k, v in value.items()}
    text = str(value or "").strip()
    if text.startswith("{"):
        return parse_users(json.loads(text))
    users: dict[str, str] = {}
    for item in filter(None, (part.strip() for part in text.split(","))):
        name, sep, hashed = item.partition(":")
        if not sep:
            raise InboxConfigError(
                "CONTACT_SYNC_INBOX_USERS entries must be 'user:hash', separated by commas"
            )
        users[name.strip()] = hashed.strip()
    return users


def _coerce(name: str, value: Any) -> Any:
    kinds = {f.name: str(f.type) for f in fields(InboxConfig)}
    kind = kinds[name]
    try:
        if name == "users":
            return parse_users(value)
        if name == "display_fields":
            items = value.split(",") if isinstance(value, str) else list(value)
            return tuple(str(v).strip() for v in items if str(v).strip())
        if value is None or value == "":
            return None if "None" in kind else next(f.default for f in fields(InboxConfig) if f.name == name)
        if kind.startswith("bool"):
            return (
                value if isinstance(value, bool) else str(value).strip().lower() in {"1", "true", "yes", "on"}
            )
        if kind.startswith("int"):
            return int(value)
        if kind.startswith("float"):
            return float(value)
        return str(value).strip()
    except (TypeError, ValueError) as err:
        if isinstance(err, InboxConfigError):
            raise
        raise InboxConfigError(
            f"inbox setting '{name}' has an unusable value ({type(err).__name__})"
        ) from None


def _read_secrets_file(path: Path) -> dict[str, Any]:
    if not path.is_file():
        raise InboxConfigError(f"{SECRETS_FILE_ENV} names a file that does not exist: {path}")
    text = path.read_text(encoding="utf-8")
    if path.suffix.lower() == ".json":
        data = json.loads(text)
    else:
        import yaml

        data = yaml.safe_load(text) or {}
    if not isinstance(data, dict):
        raise InboxConfigError(f"the inbox secrets file {path} must hold a mapping of settings")
    return data


def _from_airflow_connection(conn_id: str) -> dict[str, Any]:
    from airflow.sdk import BaseHook
    from airflow.sdk.log import mask_secret

    try:
        connection = BaseHook.get_connection(conn_id)
    except Exception as err:  # noqa: BLE001 - AirflowNotFoundException and friends: fall back to the environment
        log.warning(
            "inbox: Airflow connection '%s' not usable (%s); using the environment",
            conn_id,
            type(err).__name__,
        )
        return {}
    values: dict[str, Any] = dict(connection.extra_dejson)
    if connection.password:
        values.setdefault("api_token", connection.password)
    for key in ("api_token", "session_secret"):
        if values.get(key):
            mask_secret(str(values[key]))
    return values


def load_config(
    environ: Mapping[str, str] | None = None,
    *,
    airflow_conn_id: str | None = None,
    use_settings: bool = True,
    **overrides: Any,
) -> InboxConfig:
    """Build the configuration from the sources listed in the module docstring.

    :param environ: the environment to read (default ``os.environ``).
    :param airflow_conn_id: an Airflow connection holding the API token (password) and other settings (extras).
    :param use_settings: start from contact-sync's settings (display fields, region, connection ids).
    :param overrides: explicit values, applied last.
    """
    env = os.environ if environ is None else environ
    known = {f.name for f in fields(InboxConfig)}
    raw: dict[str, Any] = _settings_defaults() if use_settings else {}
    layers: list[tuple[str, dict[str, Any]]] = []
    if airflow_conn_id:
        layers.append((f"Airflow connection '{airflow_conn_id}'", _from_airflow_connection(airflow_conn_id)))
    secrets_file = env.get(SECRETS_FILE_ENV)
    if secrets_file:
        layers.append((f"secrets file {secrets_file}", _read_secrets_file(Path(secrets_file).expanduser())))
    from_env: dict[str, Any] = {}
    for name in known:
        value = env.get(ENV_PREFIX + name.upper())
        if value is not None:
            from_env[name] = value
        file_value = env.get(ENV_PREFIX + name.upper() + "_FILE")
        if file_value and name in SECRET_KEYS:
            from_env[name] = Path(file_value).expanduser().read_text(encoding="utf-8").strip()
    layers.append(("environment", from_env))
    for source, values in layers:
        unknown = sorted(set(values) - known)
        if unknown:
            raise InboxConfigError(f"unknown inbox setting(s) {', '.join(unknown)} in {source}")
        raw.update(values)
    raw.update(overrides)
    config = InboxConfig(**{name: _coerce(name, value) for name, value in raw.items()})
    if not config.api_token:
        log.warning("inbox: no API token configured; the API answers 503 until one is set")
    if not config.users:
        log.warning("inbox: no users configured; nobody can log in to the pages")
    return config


def with_overrides(config: InboxConfig, **values: Any) -> InboxConfig:
    """A copy of ``config`` with some values changed (validated again)."""
    return replace(config, **values)
