"""ContactSyncNotifier: the channel follows the connection type; real HTTP and SMTP to local sinks."""

from __future__ import annotations

import email
import json
import logging
from types import SimpleNamespace
from unittest import mock

import pytest

pytestmark = pytest.mark.integration

TOKEN = "s3cr3t-webhook-token-42"
SECRET_PATH = "/services/T000/B000/XXXXsecretpath"


def context(state: str = "failed", task_id: str | None = "write_contacts") -> dict:
    dag_run = SimpleNamespace(
        dag_id="contact_sync", run_id="scheduled__2026-11-01T00:00:00+00:00", state=state
    )
    ti = None if task_id is None else SimpleNamespace(task_id=task_id, state=state, dag_id="contact_sync")
    from airflow.sdk import DAG

    return {"dag_run": dag_run, "ti": ti, "run_id": dag_run.run_id, "dag": DAG("contact_sync", schedule=None)}


def env_conn(conn_id: str, **fields) -> mock._patch_dict:
    from airflow.sdk import Connection

    extra = fields.pop("extra", None)
    conn = Connection(conn_id=conn_id, extra=json.dumps(extra) if extra else None, **fields)
    return mock.patch.dict("os.environ", {f"AIRFLOW_CONN_{conn_id.upper()}": conn.as_json()})


@pytest.fixture
def webhook_conn(webhook_sink):
    with env_conn(
        "cs_alerts",
        conn_type="http",
        host=f"http://127.0.0.1:{webhook_sink.port}{SECRET_PATH}",
        password=TOKEN,
    ):
        yield webhook_sink


@pytest.fixture
def smtp_conn(smtp_sink):
    with env_conn(
        "cs_mail",
        conn_type="smtp",
        host="127.0.0.1",
        port=smtp_sink.port,
        extra={
            "from_email": "airflow@example.com",
            "disable_ssl": True,
            "disable_tls": True,
            "to": "ops@example.com, data@example.com",
            "retry_limit": 0,
        },
    ):
        yield smtp_sink


def test_webhook_posts_the_alert_json_with_bearer_token(webhook_conn, caplog) -> None:
    from notifiers.contact_sync import ContactSyncNotifier

    caplog.set_level(logging.DEBUG)
    notifier = ContactSyncNotifier(conn_id="cs_alerts", message="it broke", summary={"rejected": 3})

    notifier.notify(context())

    [item] = webhook_conn.items
    assert item["path"] == SECRET_PATH
    assert item["headers"]["Authorization"] == f"Bearer {TOKEN}"
    assert item["headers"]["Content-Type"] == "application/json"
    assert item["json"] == {
        "dag_id": "contact_sync",
        "run_id": "scheduled__2026-11-01T00:00:00+00:00",
        "task_id": "write_contacts",
        "state": "failed",
        "message": "it broke",
        "summary": {"rejected": 3},
        "text": "it broke",
    }
    from airflow.sdk._shared.secrets_masker import redact

    ours = [r.getMessage() for r in caplog.records if r.name.startswith("notifiers")]
    assert ours and not any(TOKEN in m or "secretpath" in m for m in ours)
    # Other libraries' lines (urllib3 logs the request path at DEBUG) are redacted by Airflow's masker.
    redacted = [redact(r.getMessage()) for r in caplog.records]
    assert not any(TOKEN in m or "secretpath" in m for m in redacted)


def test_webhook_error_names_status_not_url_or_token(webhook_conn) -> None:
    from notifiers.contact_sync import AlertDeliveryError, ContactSyncNotifier

    webhook_conn.status = 500
    with pytest.raises(AlertDeliveryError, match="answered HTTP 500") as err:
        ContactSyncNotifier(conn_id="cs_alerts", message="x").notify(context())
    assert "secretpath" not in str(err.value) and TOKEN not in str(err.value)


def test_unreachable_webhook_is_reported_without_url() -> None:
    from notifiers.contact_sync import AlertDeliveryError, ContactSyncNotifier

    with env_conn(
        "cs_dead", conn_type="http", host="http://127.0.0.1:9/hook/secretpath", extra={"timeout": 2}
    ):
        with pytest.raises(AlertDeliveryError, match="unreachable") as err:
            ContactSyncNotifier(conn_id="cs_dead", message="x").notify(context())
    assert "secretpath" not in str(err.value)


def test_webhook_host_port_schema_and_endpoint(webhook_sink) -> None:
    from notifiers.contact_sync import ContactSyncNotifier

    with env_conn(
        "cs_hook2",
        conn_type="http",
        host="127.0.0.1",
        port=webhook_sink.port,
        schema="http",
        extra={"endpoint": "/alerts/contact-sync"},
    ):
        ContactSyncNotifier(conn_id="cs_hook2", message="x").notify(context())

    [item] = webhook_sink.items
    assert item["path"] == "/alerts/contact-sync"
    assert "Authorization" not in item["headers"]


def test_smtp_connection_sends_a_mail(smtp_conn) -> None:
    from notifiers.contact_sync import ContactSyncNotifier

    ContactSyncNotifier(conn_id="cs_mail", message="Rejections <high>", summary={"share": 0.4}).notify(
        context()
    )

    [mail] = smtp_conn.items
    assert mail["from"] == "airflow@example.com"
    assert mail["rcpt"] == ["ops@example.com", "data@example.com"]
    message = email.message_from_bytes(mail["data"])
    assert message["Subject"] == "[contact-sync] Rejections <high>"
    html = next(part for part in message.walk() if part.get_content_type() == "text/html")
    body = html.get_payload(decode=True).decode("utf-8")
    assert "Rejections &lt;high&gt;" in body
    assert "scheduled__2026-11-01T00:00:00+00:00" in body and "&quot;share&quot;: 0.4" in body


def test_run_failure_callback_through_the_notifier_call(webhook_conn) -> None:
    from notifiers.contact_sync import on_run_failure

    callback = on_run_failure("cs_alerts")
    callback(context(state="failed", task_id=None))  # as Airflow calls a DAG-level callback

    [item] = webhook_conn.items
    assert item["json"]["state"] == "failed" and item["json"]["task_id"] is None
    assert (
        item["json"]["message"]
        == "contact-sync contact_sync run scheduled__2026-11-01T00:00:00+00:00: failed"
    )
    assert item["json"]["summary"] == {"event": "run_failed"}


@pytest.mark.parametrize(
    ("summary", "threshold", "fires"),
    [
        ({"created": 80, "rejected": 15, "held_duplicate": 5}, 0.2, False),  # exactly at the threshold
        ({"created": 79, "rejected": 15, "held_duplicate": 6}, 0.2, True),
        ({"counts": {"rejected": 3}, "read": 100}, 0.02, True),
        ({"counts": {"rejected": 3, "created": 97}, "read": 1000}, 0.02, False),
        ({"retry_pending": 50, "skipped_bulk_import": 50}, 0.1, False),  # not rejections
        ({}, 0.0, False),  # nothing read: no alert
    ],
)
def test_alert_if_rejections_high(webhook_conn, summary, threshold, fires) -> None:
    from notifiers.contact_sync import alert_if_rejections_high

    sent = alert_if_rejections_high(summary, threshold, "cs_alerts", context(state="running"))

    assert sent is fires
    assert len(webhook_conn.items) == (1 if fires else 0)
    if fires:
        payload = webhook_conn.items[0]["json"]
        assert payload["summary"]["event"] == "rejections_high"
        assert payload["summary"]["share"] > threshold
        assert "above the alert threshold" in payload["message"]


def test_alert_by_mail_for_rejections(smtp_conn) -> None:
    from notifiers.contact_sync import alert_if_rejections_high

    assert alert_if_rejections_high({"rejected": 5, "created": 5}, 0.1, "cs_mail", context(state="running"))
    assert "50.0%" in email.message_from_bytes(smtp_conn.items[0]["data"])["Subject"]


def test_bad_configuration_is_named() -> None:
    from notifiers.contact_sync import AlertConfigError, ContactSyncNotifier, alert_if_rejections_high

    with env_conn("cs_pg", conn_type="postgres", host="db"):
        with pytest.raises(AlertConfigError, match="use 'smtp'"):
            ContactSyncNotifier(conn_id="cs_pg").notify(context())
    with env_conn("cs_mail_noto", conn_type="smtp", host="127.0.0.1", port=9, extra={"from_email": "a@b.co"}):
        with pytest.raises(AlertConfigError, match="extra 'to'"):
            ContactSyncNotifier(conn_id="cs_mail_noto").notify(context())
    with env_conn("cs_mail_nofrom", conn_type="smtp", host="127.0.0.1", port=9, extra={"to": "a@b.co"}):
        with pytest.raises(AlertConfigError, match="from_email"):
            ContactSyncNotifier(conn_id="cs_mail_nofrom").notify(context())
    with pytest.raises(ValueError, match="between 0 and 1"):
        alert_if_rejections_high({"rejected": 1}, 5, "cs_pg", context())
