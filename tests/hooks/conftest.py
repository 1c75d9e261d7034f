"""Build hooks from Airflow connections that point at the running stand-ins."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any
from unittest import mock

import pytest

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator


@pytest.fixture
def sf_hook(salesforce, state_db_conn) -> Iterator[Callable[..., Any]]:
    """``sf_hook(**hook_kwargs, extra={...})`` -> a SalesforceContactsHook on the stand-in (connection ``sf_test``)."""
    from airflow.sdk import Connection
    from hooks.salesforce import SalesforceContactsHook

    patches: list[Any] = []

    def build(*, extra: dict[str, Any] | None = None, login: str | None = None, **kwargs: Any):
        extras = {
            "instance_url": salesforce.url,
            "consumer_key": salesforce.client_id,
            "consumer_secret": salesforce.client_secret,
            "ca_file": salesforce.ca_file,
            "version": "62.0",
            **(extra or {}),
        }
        extras = {k: v for k, v in extras.items() if v is not None}
        conn = Connection(conn_id="sf_test", conn_type="salesforce", login=login, extra=json.dumps(extras))
        patcher = mock.patch.dict("os.environ", AIRFLOW_CONN_SF_TEST=conn.as_json())
        patcher.start()
        patches.append(patcher)
        kwargs.setdefault("state_db_conn_id", "cs_state")
        return SalesforceContactsHook("sf_test", **kwargs)

    yield build
    for patcher in reversed(patches):
        patcher.stop()
