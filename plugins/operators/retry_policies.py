"""Task-level retry policies of the contact-sync DAGs (Airflow 3.3 ``ExceptionRetryPolicy``).

Refused credentials fail at once (retrying cannot fix them); a spent Salesforce API budget retries much later;
everything else falls through to the task's ``retries``/``retry_delay``. Exceptions are named by dotted path, so
this module imports nothing heavy at DAG parse time.
"""

from __future__ import annotations

from datetime import timedelta

from airflow.sdk import ExceptionRetryPolicy, RetryAction, RetryRule

SYNC_RETRY_POLICY = ExceptionRetryPolicy(
    rules=[
        RetryRule(
            exception="hooks.respond_io_errors.RespondIoAuthError",
            action=RetryAction.FAIL,
            reason="respond.io refused the token: fix the connection, then clear the task",
        ),
        RetryRule(
            exception="hooks.salesforce_auth.SalesforceAuthError",
            action=RetryAction.FAIL,
            reason="Salesforce refused the login: fix the connection, then clear the task",
        ),
        RetryRule(
            exception="contact_sync.state.api_budget.SalesforceBudgetExceeded",
            action=RetryAction.RETRY,
            retry_delay=timedelta(minutes=30),
            reason="Salesforce API budget spent: waiting for the 24 h window to roll on",
        ),
        RetryRule(
            exception="hooks.respond_io_shared_limits.RateLimiterUnavailable",
            action=RetryAction.RETRY,
            retry_delay=timedelta(minutes=2),
            reason="the Redis of the shared respond.io rate limit is unreachable: retrying when it is back",
        ),
    ],
)
