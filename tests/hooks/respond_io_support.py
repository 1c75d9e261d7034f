"""Helpers for the respond.io client tests: a RespondIoHook pointed at the running stand-in."""

from __future__ import annotations

import json
import os
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any
from unittest import mock

import tenacity
from airflow.sdk import Connection
from hooks.respond_io import RespondIoHook

if TYPE_CHECKING:
    from collections.abc import Iterator

    from tests.fixtures.respond_io_standin import RespondIoStandin

CONN_ID = "respond_io_test"


def connection(standin: RespondIoStandin, *, token: str | None = None, **extras: Any) -> Connection:
    """An http connection to the stand-in; the client defaults to 1000 req/s like the stand-in fixture."""
    extra = {
        "rate_limit_per_second": 1000,
        "trust_env": False,
        "post_create_delay": 0,
        "retry_initial_wait": 0.02,
        "retry_max_wait": 0.2,
        **extras,
    }
    return Connection(
        conn_id=CONN_ID,
        conn_type="http",
        host=standin.url,
        password=standin.token if token is None else token,
        extra=json.dumps(extra),
    )


@contextmanager
def respond_io_hook(
    standin: RespondIoStandin,
    *,
    token: str | None = None,
    no_wait: bool = False,
    hook_kwargs: dict[str, Any] | None = None,
    **extras: Any,
) -> Iterator[RespondIoHook]:
    """A hook built from ``AIRFLOW_CONN_RESPOND_IO_TEST``, retry waits shortened (20 ms doubling to 200 ms).

    Pass ``no_wait=True`` for ``tenacity.wait_none()`` (only where the retried failure is not time-bound).
    """
    conn = connection(standin, token=token, **extras)
    with mock.patch.dict(os.environ, {f"AIRFLOW_CONN_{CONN_ID.upper()}": conn.as_json()}):
        kwargs: dict[str, Any] = dict(hook_kwargs or {})
        if no_wait:
            kwargs["retry_wait"] = tenacity.wait_none()
        yield RespondIoHook(CONN_ID, **kwargs)
