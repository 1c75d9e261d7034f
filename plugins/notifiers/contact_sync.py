"""Alerts for the contact sync: one notifier whose channel is chosen by its Airflow connection.

The connection (default ``contact_sync_alerts``) is resolved when the alert is sent, never at parse time:

- conn type ``smtp``: mail through the SMTP provider (``apache-airflow-providers-smtp``, pinned) with its
  ``SmtpNotifier``/``SmtpHook``; host, port, login/password and the provider's extras (``from_email``,
  ``disable_ssl``, ``disable_tls``, ``timeout``) as usual, plus extra ``to`` (an address, a comma-separated
  list or a JSON list) unless ``to`` is passed to the notifier;
- conn type ``http``: a generic webhook. ``POST`` of the JSON ``{"dag_id", "run_id", "task_id", "state",
  "message", "summary", "text"}`` (``text`` repeats ``message`` so Slack-style incoming webhooks show it) to
  the connection's host (a full URL, or host + port with the scheme in *schema*, default https) plus the
  optional extra ``endpoint``; the password, when set, goes out as ``Authorization: Bearer <password>``.
  Extras: ``timeout`` (seconds, default 10), ``ca_file`` (a CA bundle to verify the receiver).

Webhook URLs often embed a secret (Slack's do), so neither the URL nor the token is ever logged or put in
an error message by this module; the URL, its path (when 8 characters or longer, since urllib3 logs request
paths at DEBUG) and the token are registered with ``mask_secret`` so Airflow redacts them from task logs.

The two helpers the sync DAG uses are :func:`on_run_failure` (a DAG-level ``on_failure_callback``) and
:func:`alert_if_rejections_high` (called from a task with the run's outcome counts).
"""

from __future__ import annotations

import html
import json
import logging
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from airflow.sdk import BaseHook, BaseNotifier

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    from airflow.sdk import Connection
    from airflow.sdk.definitions.context import Context

log = logging.getLogger(__name__)

DEFAULT_ALERT_CONN_ID = "contact_sync_alerts"
#: Webhook paths at least this long are masked in logs as secrets (shorter ones like "/hook" are not).
MIN_MASKED_PATH = 8
#: Outcomes that count as "not synced because of the data" for the rejection alert.
REJECTED_OUTCOMES: tuple[str, ...] = ("rejected", "held_duplicate")


class AlertConfigError(ValueError):
    """The alert connection cannot be used as configured (names the field, never its value)."""


class AlertDeliveryError(RuntimeError):
    """The alert could not be delivered (the message never contains the webhook URL or token)."""


def _extra(conn: Connection, name: str) -> Any:
    value = conn.extra_dejson.get(name)
    return None if value == "" else value


def _context_fields(context: Mapping[str, Any]) -> dict[str, str | None]:
    dag_run = context.get("dag_run")
    ti = context.get("ti") or context.get("task_instance")
    dag = context.get("dag")
    dag_id = getattr(dag, "dag_id", None) or getattr(dag_run, "dag_id", None) or getattr(ti, "dag_id", None)
    run_id = context.get("run_id") or getattr(dag_run, "run_id", None) or getattr(ti, "run_id", None)
    state = getattr(ti, "state", None) if ti is not None else getattr(dag_run, "state", None)
    if state is None and dag_run is not None:
        state = getattr(dag_run, "state", None)
    return {
        "dag_id": None if dag_id is None else str(dag_id),
        "run_id": None if run_id is None else str(run_id),
        "task_id": None if ti is None else str(getattr(ti, "task_id", None) or "") or None,
        "state": None if state is None else str(getattr(state, "value", state)),
    }


class ContactSyncNotifier(BaseNotifier):
    """
    Send a contact-sync alert by mail (SMTP connection) or to a webhook (HTTP connection).

    :param conn_id: the alert connection; its type chooses the channel. (templated)
    :param message: the alert text (templated); default "contact-sync <dag_id> run <run_id>: <state>".
    :param summary: a small JSON-serialisable dict sent along (run counts, shares).
    :param subject: mail subject (SMTP only); default derived from the message. (templated)
    :param to: mail recipients (SMTP only); default the connection's extra ``to``.
    """

    template_fields = ("conn_id", "message", "subject")

    def __init__(
        self,
        *,
        conn_id: str = DEFAULT_ALERT_CONN_ID,
        message: str | None = None,
        summary: dict[str, Any] | None = None,
        subject: str | None = None,
        to: str | Sequence[str] | None = None,
    ) -> None:
        super().__init__()
        self.conn_id = conn_id
        self.message = message
        self.summary = summary or {}
        self.subject = subject
        self.to = to

    def payload(self, context: Mapping[str, Any]) -> dict[str, Any]:
        """The JSON body of a webhook alert (also the facts shown in a mail)."""
        fields = _context_fields(context)
        message = self.message or (
            f"contact-sync {fields['dag_id'] or '?'} run {fields['run_id'] or '?'}: {fields['state'] or 'alert'}"
        )
        return {**fields, "message": message, "summary": self.summary, "text": message}

    def notify(self, context: Context) -> None:
        conn = BaseHook.get_connection(self.conn_id)
        kind = (conn.conn_type or "").lower()
        if kind == "smtp":
            self._send_mail(conn, context)
        elif kind in {"http", "https"}:
            self._post_webhook(conn, self.payload(context))
        else:
            raise AlertConfigError(
                f"Alert connection {self.conn_id!r} has type {conn.conn_type!r}; use 'smtp' (mail) or "
                "'http' (generic webhook)."
            )

    # -- webhook -------------------------------------------------------------------------------------------

    def _webhook_url(self, conn: Connection) -> str:
        host = (conn.host or "").strip()
        if not host:
            raise AlertConfigError(
                f"Alert connection {self.conn_id!r} (http) needs the webhook URL in 'host'."
            )
        if "://" in host:
            url = host
        else:
            url = f"{conn.schema or 'https'}://{host}"
            if conn.port:
                url += f":{conn.port}"
        endpoint = _extra(conn, "endpoint")
        if endpoint:
            url = url.rstrip("/") + "/" + str(endpoint).lstrip("/")
        return url

    def _post_webhook(self, conn: Connection, payload: dict[str, Any]) -> None:
        import requests
        from airflow.sdk.log import mask_secret

        url = self._webhook_url(conn)
        mask_secret(url)
        # urllib3 logs the request path at DEBUG; Slack-style URLs carry their secret in it.
        parts = urlsplit(url)
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        if len(path) >= MIN_MASKED_PATH:
            mask_secret(path)
        headers = {"Content-Type": "application/json", "User-Agent": "contact-sync-alerts"}
        if conn.password:
            mask_secret(conn.password)
            headers["Authorization"] = f"Bearer {conn.password}"
        timeout = float(_extra(conn, "timeout") or 10)
        verify: bool | str = _extra(conn, "ca_file") or True
        body = json.dumps(payload, default=str).encode("utf-8")
        try:
            response = requests.post(url, data=body, headers=headers, timeout=timeout, verify=verify)
        except requests.RequestException as err:
            raise AlertDeliveryError(
                f"Alert webhook of connection {self.conn_id!r} is unreachable ({type(err).__name__})"
            ) from None
        if response.status_code >= 400:
            raise AlertDeliveryError(
                f"Alert webhook of connection {self.conn_id!r} answered HTTP {response.status_code}"
            )
        log.info("Alert sent to the webhook of connection %s (HTTP %s)", self.conn_id, response.status_code)

    # -- mail ----------------------------------------------------------------------------------------------

    def _recipients(self, conn: Connection) -> str | list[str]:
        to: Any = self.to or _extra(conn, "to")
        if isinstance(to, str) and to.strip().startswith("["):
            to = json.loads(to)
        if not to:
            raise AlertConfigError(
                f"Alert connection {self.conn_id!r} (smtp) needs recipients: set the extra 'to' "
                "or pass to= to the notifier."
            )
        return to if isinstance(to, str) else [str(address) for address in to]

    def _send_mail(self, conn: Connection, context: Context) -> None:
        from airflow.providers.smtp.notifications.smtp import SmtpNotifier

        payload = self.payload(context)
        message = str(payload["message"])
        subject = self.subject or f"[contact-sync] {message.splitlines()[0][:150]}"
        facts = "".join(
            f"<tr><th align='left'>{html.escape(name)}</th><td>{html.escape(str(payload[name] or ''))}</td></tr>"
            for name in ("dag_id", "run_id", "task_id", "state")
        )
        summary = html.escape(json.dumps(self.summary, indent=2, sort_keys=True, default=str))
        body = f"<p>{html.escape(message)}</p><table>{facts}</table><h4>Summary</h4><pre>{summary}</pre>"
        # Called with plain strings: SmtpNotifier.notify renders nothing itself when subject and body are set.
        from_email = _extra(conn, "from_email")
        if not from_email:
            raise AlertConfigError(f"Alert connection {self.conn_id!r} (smtp) needs the extra 'from_email'.")
        SmtpNotifier(
            to=self._recipients(conn),
            from_email=str(from_email),
            subject=subject,
            html_content=body,
            smtp_conn_id=self.conn_id,
        ).notify(context)
        log.info("Alert mailed through connection %s", self.conn_id)


def on_run_failure(conn_id: str = DEFAULT_ALERT_CONN_ID) -> ContactSyncNotifier:
    """A DAG-level ``on_failure_callback``: alert that a sync run failed.

    ``@dag(..., on_failure_callback=on_run_failure("contact_sync_alerts"))``
    """
    return ContactSyncNotifier(conn_id=conn_id, summary={"event": "run_failed"})


def rejection_share(summary: Mapping[str, Any]) -> tuple[float, int, int]:
    """``(share, rejected_or_held, read)`` of a run summary.

    ``summary`` is either the run's outcome counts ``{outcome: n}`` (read = their sum), or a dict with
    ``counts`` (outcome counts) and optionally ``read`` (contacts read, when it differs from the sum).
    """
    counts_value = summary.get("counts")
    counts: Mapping[str, Any] = counts_value if isinstance(counts_value, dict) else summary
    numbers = {
        str(k): int(v) for k, v in counts.items() if isinstance(v, int | float) and not isinstance(v, bool)
    }
    read = (
        int(summary["read"])
        if isinstance(counts_value, dict) and "read" in summary
        else sum(numbers.values())
    )
    bad = sum(numbers.get(outcome, 0) for outcome in REJECTED_OUTCOMES)
    return (bad / read if read else 0.0), bad, read


def alert_if_rejections_high(
    summary: Mapping[str, Any],
    share_threshold: float,
    conn_id: str,
    context: Context,
) -> bool:
    """Alert when the rejected + held share of the contacts read exceeds ``share_threshold`` (0..1).

    :return: whether an alert was sent.
    """
    if not 0 <= share_threshold <= 1:
        raise ValueError(f"share_threshold must be between 0 and 1, got {share_threshold!r}")
    share, bad, read = rejection_share(summary)
    if read == 0 or share <= share_threshold:
        log.info("Rejected/held share %.3f (%s of %s) is within %.3f", share, bad, read, share_threshold)
        return False
    message = (
        f"contact-sync: {bad} of {read} contacts read ({share:.1%}) were rejected or held, "
        f"above the alert threshold of {share_threshold:.1%}"
    )
    notifier = ContactSyncNotifier(
        conn_id=conn_id,
        message=message,
        summary={
            "event": "rejections_high",
            "share": round(share, 4),
            "threshold": share_threshold,
            "rejected_or_held": bad,
            "read": read,
            "counts": dict(summary.get("counts") or summary),
        },
    )
    notifier.notify(context)
    return True
