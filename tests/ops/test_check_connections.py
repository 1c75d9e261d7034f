"""`contact-sync check-connections` says what is wrong with each connection in plain words."""

from __future__ import annotations

import json
from unittest import mock

import pytest

pytestmark = pytest.mark.integration


@pytest.fixture
def connections(salesforce, respond_io, state_db_conn):
    """Env connections for the three checks, pointing at the running stand-ins; yields a patcher."""
    from airflow.sdk import Connection

    def patch(*, sf_extra=None, rio_password=None, state_host=None, rio_extra=None, redis_port=None):
        extra = {
            "instance_url": salesforce.url,
            "consumer_key": salesforce.client_id,
            "consumer_secret": salesforce.client_secret,
            "ca_file": salesforce.ca_file,
            **(sf_extra or {}),
        }
        env = {
            "AIRFLOW_CONN_SF_CHECK": Connection(
                conn_id="sf_check", conn_type="salesforce", extra=json.dumps(extra)
            ).as_json(),
            "AIRFLOW_CONN_RIO_CHECK": Connection(
                conn_id="rio_check",
                conn_type="http",
                host=respond_io.url,
                password=rio_password or respond_io.token,
                extra=json.dumps(rio_extra or {}),
            ).as_json(),
        }
        if redis_port:
            env["AIRFLOW_CONN_CS_REDIS"] = Connection(
                conn_id="cs_redis", conn_type="redis", host="127.0.0.1", port=redis_port, extra='{"db": 7}'
            ).as_json()
        if state_host:
            env["AIRFLOW_CONN_CS_STATE"] = Connection(
                conn_id="cs_state", conn_type="sqlite", host=state_host
            ).as_json()
        return mock.patch.dict("os.environ", env)

    return patch


def check():
    from contact_sync_ops.connections import check_all

    return check_all("sf_check", "rio_check", "cs_state")


def test_all_connections_ok(connections):
    with connections():
        results = check()

    assert [ok for ok, _ in results.values()] == [True, True, True], results


def test_each_failure_is_named_in_plain_words(connections, tmp_path):
    with connections(
        sf_extra={"consumer_secret": "nope-not-it"},
        rio_password="wrong-token-123",
        state_host=str(tmp_path / "empty.db"),
    ):
        results = dict(zip(["state", "salesforce", "respond_io"], check().values(), strict=True))

    assert results["state"] == (False, results["state"][1]) and "run migrations" in results["state"][1]
    assert not results["salesforce"][0] and "refused the client_credentials login" in results["salesforce"][1]
    assert (
        not results["respond_io"][0]
        and "check the respond.io connection's password" in results["respond_io"][1]
    )
    assert "nope-not-it" not in repr(results) and "wrong-token-123" not in repr(results)


def test_unreachable_salesforce_is_reported(connections):
    with connections(sf_extra={"instance_url": "https://127.0.0.1:9"}):
        ok, message = check()["Salesforce (sf_check)"]

    assert not ok and "ConnectionError" in message


@pytest.mark.parametrize(("port", "ok"), [(6379, True), (9, False)], ids=["redis-up", "redis-down"])
def test_the_shared_rate_limiters_redis_is_checked_with_respond_io(connections, port, ok):
    with connections(rio_extra={"rate_limiter_conn_id": "cs_redis"}, redis_port=port):
        result, message = check()["respond.io (rio_check)"]

    assert result is ok, message
    assert "cs_redis" in message  # which Redis: the shared limit's, named
    if not ok:
        assert "RateLimiterUnavailable" in message
