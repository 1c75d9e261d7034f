"""
RespondIoHook: the transport for respond.io's Developer API v2.

It exposes the contact calls contact-sync makes, each returning a classified :class:`CallResult`; every
request goes through the endpoint's rate limiter and through one retry loop (:meth:`RespondIoHook.call`).
Pipelining many contacts lives in :mod:`hooks.respond_io_pipeline`, not here.

Connection (type ``http``)
==========================

=========================  ===================================================================================
Host                       API base URL incl. ``/v2``; default ``https://api.respond.io/v2`` (a host without a
                           scheme gets ``https://`` unless Schema says otherwise)
Password                   the API access token (sent as ``Authorization: Bearer``, masked, never logged)
``rate_limit_per_second``  requests/s per endpoint, default 5
``rate_limits``            per-endpoint overrides, ``{"POST /contact/create_or_update/{identifier}": 10}``;
                           keys as made by :func:`hooks.respond_io_limits.endpoint_key`
``max_retries``            retries per call after the first attempt (429, 449, 5xx, timeouts, 404 after a
                           create), default 6
``retry_initial_wait``     first backoff in seconds, doubled per retry with jitter, default 0.25
``retry_max_wait``         backoff cap in seconds, default 30
``timeout``                seconds per HTTP request, default 30
``max_in_flight``          threads the pipeline uses for this connection, default 16
``post_create_delay``      seconds to wait after creating a contact before the next call on it (respond.io
                           processes creates asynchronously), default 1.0; 404s in that phase are retried too
``verify``                 TLS verification: ``true``/``false`` or a CA bundle path, default true
``trust_env``              honour proxy environment variables, default true
``rate_limiter_conn_id``   where the rate limits are shared by every worker process (respond.io counts per
                           organisation, so with several task slots this extra is required): an Airflow
                           connection of type ``redis`` (host, port, password, extra ``{"db": N}``, optional
                           ``"ssl": true``), or any other type = a state DB connection as
                           :class:`hooks.state_db.StateDbHook` reads it (``sqlite``, ``postgres``, or extra
                           ``sqlalchemy_url``), usually ``contact_sync_state``; unset = a limiter per process
``rate_limiter_namespace`` the organisation/workspace the shared limits belong to, default the connection id;
                           give several respond.io connections of one organisation the same value
=========================  ===================================================================================

With ``rate_limiter_conn_id`` every request reserves its slot in Redis
(:class:`hooks.respond_io_shared_limits.RedisRateLimiter`) or in the state DB's ``rate_limits`` table
(:class:`hooks.respond_io_state_limits.StateDbRateLimiter`: one short transaction per request; the machines'
clocks must agree, as for the staged-contact leases). If that Redis or database cannot be used (unreachable, or
the table missing: migrate the state DB), the task fails with
:class:`~hooks.respond_io_shared_limits.RateLimiterUnavailable` naming the connection and the fix, and is
retried; it never falls back to the per-process limiter.

Unlike :class:`~airflow.providers.http.hooks.http.HttpHook`, **no extra is ever sent as an HTTP header**: the
session carries only ``Accept``/``Content-Type`` and the bearer auth.
"""

from __future__ import annotations

import json as jsonlib
import logging
import threading
import time
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import requests
import tenacity
from airflow.providers.http.hooks.http import HttpHook
from requests.adapters import HTTPAdapter

from hooks.respond_io_errors import (
    CallResult,
    RespondIoAuthError,
    RespondIoError,
    RespondIoRateLimited,
    classify_exception,
    classify_response,
)
from hooks.respond_io_identifiers import ContactIdentifier, contact_identifier, parse_identifier
from hooks.respond_io_limits import (
    DEFAULT_RATE_PER_SECOND,
    InProcessRateLimiter,
    RateLimiter,
    endpoint_key,
    parse_rate_headers,
)
from hooks.respond_io_pagination import CursorPaginator

if TYPE_CHECKING:
    from collections.abc import Iterator, Mapping, Sequence

    from airflow.sdk import Connection
    from tenacity.wait import wait_base

__all__ = [
    "BearerAuth",
    "CallResult",
    "ContactIdentifier",
    "RespondIoHook",
    "RespondIoSettings",
    "contact_identifier",
]

log = logging.getLogger(__name__)

DEFAULT_BASE_URL = "https://api.respond.io/v2"
#: A 404 for a contact this hook created less than this many seconds ago counts as "not processed yet".
NOT_READY_WINDOW = 120.0
_RECENT_MAX = 50_000
Identifier = ContactIdentifier | str


class BearerAuth(requests.auth.AuthBase):
    """Sets ``Authorization: Bearer <token>`` on each request; its repr never shows the token."""

    def __init__(self, token: str) -> None:
        self._token = token

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        request.headers["Authorization"] = f"Bearer {self._token}"
        return request

    def __repr__(self) -> str:
        return "BearerAuth(token=***)"


@dataclass(frozen=True)
class RespondIoSettings:
    """The connection's settings after parsing (see the module docstring)."""

    base_url: str
    rate_limit_per_second: float = DEFAULT_RATE_PER_SECOND
    rate_limits: Mapping[str, float] = field(default_factory=dict)
    max_retries: int = 6
    retry_initial_wait: float = 0.25
    retry_max_wait: float = 30.0
    timeout: float = 30.0
    max_in_flight: int = 16
    post_create_delay: float = 1.0
    verify: bool | str = True
    trust_env: bool = True
    rate_limiter_conn_id: str | None = None
    rate_limiter_namespace: str | None = None


def _get_field(extras: Mapping[str, Any], name: str) -> Any:
    """An extra's value, with ``""`` (what the UI stores for an empty field) read as ``None``."""
    value = extras.get(name)
    return None if value == "" else value


def _as_bool(value: Any, default: bool) -> bool:
    if value is None:
        return default
    if isinstance(value, bool):
        return value
    return str(value).strip().lower() in ("1", "true", "yes", "on")


def _number(extras: Mapping[str, Any], name: str, default: float, *, minimum: float = 0.0) -> float:
    raw = _get_field(extras, name)
    if raw is None:
        return default
    try:
        value = float(raw)
    except (TypeError, ValueError):
        raise ValueError(f"respond.io connection extra {name!r} must be a number") from None
    if value < minimum:
        raise ValueError(f"respond.io connection extra {name!r} must be >= {minimum}")
    return value


def _base_url(connection: Connection) -> str:
    host = (connection.host or "").strip()
    if not host:
        return DEFAULT_BASE_URL
    if "://" not in host:
        host = f"{connection.schema or 'https'}://{host}"
    parts = urlsplit(host)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError("respond.io connection host must be an http(s) URL, e.g. https://api.respond.io/v2")
    if connection.port and parts.port is None:
        host = parts._replace(netloc=f"{parts.netloc}:{connection.port}").geturl()
    return host.rstrip("/")


def settings_from_connection(connection: Connection) -> RespondIoSettings:
    """Parse a connection into :class:`RespondIoSettings` (values are never echoed in errors)."""
    extras = connection.extra_dejson
    rate_limits_raw = _get_field(extras, "rate_limits") or {}
    if isinstance(rate_limits_raw, str):
        rate_limits_raw = jsonlib.loads(rate_limits_raw)
    if not isinstance(rate_limits_raw, dict):
        raise ValueError("respond.io connection extra 'rate_limits' must map endpoint keys to numbers")
    rate_limits = {str(k): float(v) for k, v in rate_limits_raw.items() if v not in (None, "")}
    verify_raw = _get_field(extras, "verify")
    verify: bool | str = (
        verify_raw
        if isinstance(verify_raw, str) and verify_raw.lower() not in ("true", "false")
        else _as_bool(verify_raw, True)
    )
    return RespondIoSettings(
        base_url=_base_url(connection),
        rate_limit_per_second=_number(
            extras, "rate_limit_per_second", DEFAULT_RATE_PER_SECOND, minimum=0.001
        ),
        rate_limits=rate_limits,
        max_retries=int(_number(extras, "max_retries", 6)),
        retry_initial_wait=_number(extras, "retry_initial_wait", 0.25),
        retry_max_wait=_number(extras, "retry_max_wait", 30.0),
        timeout=_number(extras, "timeout", 30.0, minimum=0.001),
        max_in_flight=max(1, int(_number(extras, "max_in_flight", 16, minimum=1))),
        post_create_delay=_number(extras, "post_create_delay", 1.0),
        verify=verify,
        trust_env=_as_bool(_get_field(extras, "trust_env"), True),
        rate_limiter_conn_id=_get_field(extras, "rate_limiter_conn_id"),
        rate_limiter_namespace=_get_field(extras, "rate_limiter_namespace"),
    )


class _RespondIoWait(tenacity.wait.wait_base):
    """429 waits ``Retry-After`` (or the backoff when absent); everything else waits the backoff."""

    def __init__(self, backoff: wait_base) -> None:
        self.backoff = backoff

    def __call__(self, retry_state: tenacity.RetryCallState) -> float:
        outcome = retry_state.outcome
        error = outcome.exception() if outcome is not None else None
        if isinstance(error, RespondIoRateLimited) and error.retry_after is not None:
            return float(error.retry_after)
        return float(self.backoff(retry_state))


def _is_retryable(error: BaseException) -> bool:
    return isinstance(error, RespondIoError) and error.retryable


class RespondIoHook(HttpHook):
    """
    Calls respond.io's Developer API v2 within its per-endpoint rate limits.

    Every public call returns a :class:`CallResult` (``ok``, ``status``, ``contact_id``, ``error_class``,
    ``message``, ``attempts``); only an authentication failure (401/403) is raised, as
    :class:`~hooks.respond_io_errors.RespondIoAuthError`, because no later call can succeed either.

    :param respond_io_conn_id: the respond.io connection (see the module docstring).
    :param limiter: a limiter to use instead of the one built from the connection.
    :param retry_wait: tenacity wait strategy for non-429 retries (tests pass ``tenacity.wait_none()``);
        default exponential backoff with jitter from the connection's extras.
    :param max_retries: overrides the ``max_retries`` extra.
    :param post_create_delay: overrides the ``post_create_delay`` extra.
    """

    conn_name_attr = "respond_io_conn_id"
    default_conn_name = "respond_io_default"
    conn_type = "http"
    hook_name = "respond.io"

    def __init__(
        self,
        respond_io_conn_id: str = default_conn_name,
        *,
        limiter: RateLimiter | None = None,
        retry_wait: wait_base | None = None,
        max_retries: int | None = None,
        post_create_delay: float | None = None,
    ) -> None:
        super().__init__(method="POST", http_conn_id=respond_io_conn_id)
        self.respond_io_conn_id = respond_io_conn_id
        self._limiter_override = limiter
        self._retry_wait_override = retry_wait
        self._max_retries_override = max_retries
        self._post_create_delay_override = post_create_delay
        self._recent: dict[str, float] = {}
        self._recent_lock = threading.Lock()

    # -- configuration, built once per hook ---------------------------------------------------------
    @cached_property
    def connection(self) -> Connection:
        return self.get_connection(self.respond_io_conn_id)

    @cached_property
    def settings(self) -> RespondIoSettings:
        return settings_from_connection(self.connection)

    @cached_property
    def limiter(self) -> RateLimiter:
        """The rate limiter every request of this hook passes: shared by all threads using the hook, and by
        every process when the connection names a Redis or the state DB (``rate_limiter_conn_id``).

        :raises RateLimiterUnavailable: that connection cannot be read, or its Redis / database cannot be used.
        """
        if self._limiter_override is not None:
            return self._limiter_override
        settings = self.settings
        conn_id = settings.rate_limiter_conn_id
        if conn_id:
            # The one place the shared limiter is chosen: by the type of the connection the extra names.
            from hooks.respond_io_shared_limits import redis_rate_limiter
            from hooks.respond_io_state_limits import rate_limiter_conn_type, state_db_rate_limiter

            kind = rate_limiter_conn_type(conn_id, respond_io_conn_id=self.respond_io_conn_id)
            build = redis_rate_limiter if kind in ("", "redis") else state_db_rate_limiter
            return build(
                conn_id,
                respond_io_conn_id=self.respond_io_conn_id,
                namespace=settings.rate_limiter_namespace or self.respond_io_conn_id,
                rate_per_second=settings.rate_limit_per_second,
                endpoint_rates=settings.rate_limits,
            )
        return InProcessRateLimiter(settings.rate_limit_per_second, settings.rate_limits)

    @property
    def max_retries(self) -> int:
        if self._max_retries_override is not None:
            return self._max_retries_override
        return self.settings.max_retries

    @property
    def post_create_delay(self) -> float:
        if self._post_create_delay_override is not None:
            return self._post_create_delay_override
        return self.settings.post_create_delay

    @cached_property
    def session(self) -> requests.Session:
        """One ``requests.Session`` per hook: bearer auth, JSON headers, a pool sized for the pipeline."""
        token = self.connection.password
        if not token:
            raise RespondIoAuthError(
                None, f"connection {self.respond_io_conn_id!r} has no password (the respond.io API token)"
            )
        _mask(token)
        settings = self.settings
        self.base_url = settings.base_url
        session = requests.Session()
        session.auth = BearerAuth(token)
        session.headers.update({"Accept": "application/json", "Content-Type": "application/json"})
        session.verify = settings.verify
        session.trust_env = settings.trust_env
        adapter = HTTPAdapter(pool_connections=4, pool_maxsize=max(32, settings.max_in_flight * 2))
        session.mount("https://", adapter)
        session.mount("http://", adapter)
        return session

    def get_conn(
        self, headers: dict[Any, Any] | None = None, extra_options: dict[str, Any] | None = None
    ) -> requests.Session:
        """The hook's cached session (HttpHook's version would turn connection extras into headers)."""
        if headers or extra_options:
            raise ValueError("RespondIoHook builds its session from the connection only")
        return self.session

    # -- the one request/retry path -------------------------------------------------------------------
    def _retrying(self) -> tenacity.Retrying:
        backoff = self._retry_wait_override or tenacity.wait_exponential_jitter(
            initial=self.settings.retry_initial_wait,
            max=self.settings.retry_max_wait,
            jitter=self.settings.retry_initial_wait,
        )
        return tenacity.Retrying(
            stop=tenacity.stop_after_attempt(self.max_retries + 1),
            wait=_RespondIoWait(backoff),
            retry=tenacity.retry_if_exception(_is_retryable),
            before_sleep=_log_retry,
            reraise=True,
        )

    def call(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: Mapping[str, Any] | None = None,
        identifier: ContactIdentifier | None = None,
    ) -> CallResult:
        """Send one API call through the limiter, classify the answer, retry transient failures.

        :param method: HTTP method.
        :param path: path below the base URL, e.g. ``/contact/id:1/tag`` (identifiers already encoded).
        :param json: JSON body.
        :param params: query parameters.
        :param identifier: the contact the call is about, so a 404 right after creating it is retried.
        :raises RespondIoAuthError: 401/403, or no token in the connection.
        """
        session = self.session
        url = self.settings.base_url + path
        key = endpoint_key(method, path)
        timeout = self.settings.timeout
        attempts = 0
        if identifier is not None:
            self._wait_for_processing(identifier)

        def attempt() -> requests.Response:
            nonlocal attempts
            self.limiter.acquire(key)
            attempts += 1
            try:
                response = session.request(method, url, json=json, params=params, timeout=timeout)
            except requests.RequestException as exc:
                raise classify_exception(exc, endpoint=key) from None
            limit, remaining, retry_after = parse_rate_headers(response.headers)
            if response.status_code != 429:
                retry_after = None  # only a 429's Retry-After closes the endpoint
            self.limiter.observe(key, limit=limit, remaining=remaining, retry_after=retry_after)
            log.debug("respond.io %s -> %s (attempt %s)", key, response.status_code, attempts)
            fresh = identifier is not None and self._recently_created(identifier)
            error = classify_response(response, endpoint=key, recently_created=fresh)
            if error is not None:
                raise error
            return response

        try:
            response = self._retrying()(attempt)
        except RespondIoAuthError as error:
            log.error("respond.io refused the token on %s (%s): %s", key, error.status, error.message)
            raise
        except RespondIoError as error:
            if error.retryable:
                log.warning("respond.io %s still failing after %s attempts: %s", key, attempts, error.message)
            return CallResult.failure(error, key, attempts)
        try:
            data = response.json() if response.content else None
        except ValueError:
            data = None
        return CallResult.success(response, key, attempts, data)

    # -- post-create bookkeeping ------------------------------------------------------------------------
    def _remember_created(self, *identifiers: ContactIdentifier) -> None:
        now = time.monotonic()
        with self._recent_lock:
            if len(self._recent) > _RECENT_MAX:
                cutoff = now - NOT_READY_WINDOW
                self._recent = {k: t for k, t in self._recent.items() if t >= cutoff}
            for ident in identifiers:
                self._recent[str(ident)] = now

    def _created_at(self, identifier: ContactIdentifier) -> float | None:
        with self._recent_lock:
            return self._recent.get(str(identifier))

    def _recently_created(self, identifier: ContactIdentifier) -> bool:
        created = self._created_at(identifier)
        return created is not None and time.monotonic() - created < NOT_READY_WINDOW

    def _wait_for_processing(self, identifier: ContactIdentifier) -> None:
        """Sleep until ``post_create_delay`` has passed since this hook created the contact."""
        created = self._created_at(identifier)
        if created is None:
            return
        delay = created + self.post_create_delay - time.monotonic()
        if delay > 0:
            time.sleep(delay)

    # -- contacts ---------------------------------------------------------------------------------------
    @staticmethod
    def _contact_path(identifier: Identifier, suffix: str = "") -> tuple[ContactIdentifier, str]:
        ident = parse_identifier(identifier)
        return ident, f"/contact/{ident.path_segment()}{suffix}"

    def get_contact(self, identifier: Identifier) -> CallResult:
        """``GET /contact/{identifier}``; ``data`` is the contact, ``not_found`` tells a missing one."""
        ident, path = self._contact_path(identifier)
        return self.call("GET", path, identifier=ident)

    def create_or_update(self, identifier: Identifier, fields: Mapping[str, Any]) -> CallResult:
        """``POST /contact/create_or_update/{identifier}`` (``email:``/``phone:``); sets ``contact_id``.

        Safe to retry: a repeated call finds the contact the first one made, so no duplicate appears.
        """
        ident = parse_identifier(identifier)
        result = self.call("POST", f"/contact/create_or_update/{ident.path_segment()}", json=dict(fields))
        if result.ok and result.contact_id is not None:
            self._remember_created(ident, contact_identifier("id", result.contact_id))
        return result

    def update_contact(self, identifier: Identifier, fields: Mapping[str, Any]) -> CallResult:
        """``PUT /contact/{identifier}`` with the fields to change (omitted fields are kept)."""
        ident, path = self._contact_path(identifier)
        return self.call("PUT", path, json=dict(fields), identifier=ident)

    @staticmethod
    def _tag_list(tags: Sequence[str]) -> list[str]:
        tag_list = [tags] if isinstance(tags, str) else list(tags)
        valid = all(isinstance(t, str) and 0 < len(t) <= 255 for t in tag_list)
        if not 1 <= len(tag_list) <= 10 or not valid:
            raise ValueError("respond.io takes 1-10 tags per call, each 1-255 characters")
        return tag_list

    def add_tags(self, identifier: Identifier, tags: Sequence[str]) -> CallResult:
        """``POST /contact/{identifier}/tag`` with 1-10 tag names."""
        ident, path = self._contact_path(identifier, "/tag")
        return self.call("POST", path, json=self._tag_list(tags), identifier=ident)

    def remove_tags(self, identifier: Identifier, tags: Sequence[str]) -> CallResult:
        """``DELETE /contact/{identifier}/tag`` with 1-10 tag names in the body."""
        ident, path = self._contact_path(identifier, "/tag")
        return self.call("DELETE", path, json=self._tag_list(tags), identifier=ident)

    def _iter_pages(
        self, method: str, path: str, *, json: Any = None, page_size: int = 100
    ) -> Iterator[dict[str, Any]]:
        paginator = CursorPaginator(endpoint_key(method, path))
        while paginator.has_more:
            params: dict[str, Any] = {"limit": page_size}
            if paginator.cursor is not None:
                params["cursorId"] = paginator.cursor
            body = self.call(method, path, json=json, params=params).raise_for_error().data or {}
            yield from body.get("items") or []
            paginator.get_next(body)

    def iter_contacts(
        self,
        filter: Mapping[str, Any] | None = None,  # noqa: A002 - the API's own word
        *,
        search: str = "",
        timezone: str = "UTC",
        page_size: int = 100,
    ) -> Iterator[dict[str, Any]]:
        """Yield every contact matching ``filter`` (``POST /contact/list``), following the cursor.

        :param filter: e.g. ``{"$and": [{"category": "contactTag", "field": None, "operator": "hasAnyOf",
            "value": ["Auto-create: Salesforce"]}]}``; ``None`` = all contacts.
        :raises RespondIoError: a page failed after retries.
        """
        body = {"search": search, "timezone": timezone, "filter": dict(filter) if filter else {"$or": []}}
        yield from self._iter_pages("POST", "/contact/list", json=body, page_size=page_size)

    # -- workspace ----------------------------------------------------------------------------------------
    def ensure_tag(self, name: str, **attributes: Any) -> CallResult:
        """Create the workspace tag ``name`` unless it exists (a 409 "already exists" counts as success).

        :param attributes: optional ``description``, ``colorCode``, ``emoji``.
        """
        result = self.call("POST", "/space/tag", json={"name": name, **attributes})
        if result.status == 409:
            return CallResult(
                True, 409, result.endpoint, message="tag already exists", attempts=result.attempts
            )
        return result

    def ensure_custom_field(
        self,
        slug: str,
        *,
        name: str | None = None,
        data_type: str = "text",
        description: str = "",
        allowed_values: Sequence[str] | None = None,
    ) -> CallResult:
        """Return the custom field ``slug`` (``data`` = its definition), creating it when missing."""
        for item in self._iter_pages("GET", "/space/custom_field"):
            if item.get("slug") == slug:
                return CallResult(True, 200, "GET /space/custom_field", data=item)
        definition: dict[str, Any] = {
            "name": name or slug,
            "slug": slug,
            "description": description,
            "dataType": data_type,
        }
        if allowed_values is not None:
            definition["allowedValues"] = list(allowed_values)
        result = self.call("POST", "/space/custom_field", json=definition)
        if result.status == 409:  # created concurrently by someone else
            for item in self._iter_pages("GET", "/space/custom_field"):
                if item.get("slug") == slug:
                    return CallResult(
                        True, 200, "GET /space/custom_field", data=item, attempts=result.attempts
                    )
        return result

    # -- connection test ---------------------------------------------------------------------------------
    def test_connection(self) -> tuple[bool, str]:
        """Check the token with ``GET /space/user?limit=1`` (what respond.io's own clients do)."""
        try:
            result = self.call("GET", "/space/user", params={"limit": 1})
        except RespondIoAuthError as error:
            return False, str(error)
        except (ValueError, requests.RequestException) as error:
            return False, f"respond.io connection is misconfigured: {type(error).__name__}: {error}"
        if result.ok:
            shared = getattr(self.limiter, "source", None)
            return True, "Connection successfully tested" + (
                f"; rate limit shared through {shared}" if shared else ""
            )
        return False, f"respond.io answered {result.status}: {result.message}"


def _mask(token: str) -> None:
    """Register the token with Airflow's secrets masker (connection-password masking has had gaps)."""
    try:
        from airflow.sdk.log import mask_secret
    except ImportError:  # pragma: no cover - the Task SDK is part of every supported Airflow
        return
    mask_secret(token)


def _log_retry(retry_state: tenacity.RetryCallState) -> None:
    outcome = retry_state.outcome
    error = outcome.exception() if outcome is not None else None
    wait = retry_state.next_action.sleep if retry_state.next_action is not None else 0.0
    if isinstance(error, RespondIoError):
        log.info(
            "respond.io %s answered %s (%s); retry %s in %.2fs",
            error.endpoint,
            error.status,
            error.error_class,
            retry_state.attempt_number,
            wait,
        )
