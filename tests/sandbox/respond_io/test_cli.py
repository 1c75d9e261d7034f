"""Start-up options of ``python -m sandbox.respond_io`` (separate processes)."""

from __future__ import annotations

import os
import subprocess
import sys
from typing import TYPE_CHECKING

import pytest

from sandbox.process import start_server
from sandbox.respond_io.admin_client import RespondIoAdmin

if TYPE_CHECKING:
    import requests

pytestmark = pytest.mark.integration


def test_tokens_from_env_share_limits_and_cli_options_apply() -> None:
    args = [
        "--rate-limit", "3",
        "--rate-limit-endpoint", "GET /space/user=1",
        "--create-delay", "0",
        "--email-case-sensitive",
        "--webhook-url", "http://127.0.0.1:9/unused",
        "--no-webhooks-for-api-writes",
        "--latency-ms", "1",
    ]  # fmt: skip
    with start_server(
        "sandbox.respond_io", args, env={"RESPOND_IO_STANDIN_TOKENS": "tok-a, tok-b"}
    ) as server:
        base = server.url + "/v2"
        admin = RespondIoAdmin(server.url + "/__admin")
        with server.session() as s:

            def get(path: str, token: str) -> requests.Response:
                return s.get(base + path, headers={"Authorization": f"Bearer {token}"}, timeout=5)

            first, second = get("/space/user", "tok-a"), get("/space/user", "tok-b")
            other_endpoint = get("/space/custom_field", "tok-b")
            admin.seed_contacts([{"firstName": "J", "email": "Jane@Example.com"}])
            exact, folded = (
                get("/contact/email:Jane@Example.com", "tok-a"),
                get("/contact/email:jane@example.com", "tok-b"),
            )
            created = s.post(
                base + "/contact/create_or_update/email:x@example.com",
                json={"firstName": "X"},
                headers={"Authorization": "Bearer tok-a"},
                timeout=5,
            )
            deliveries = admin.deliveries()
            config = admin.config()

        log_text = server.log_path.read_text()

    assert (first.status_code, second.status_code) == (200, 429)  # one organisation, one bucket
    assert first.headers["X-RateLimit-Limit"] == "1"
    assert (other_endpoint.status_code, other_endpoint.headers["X-RateLimit-Limit"]) == (200, "3")
    assert (exact.status_code, folded.status_code) == (200, 404)
    assert created.status_code == 200
    assert deliveries == []  # API writes do not fire webhooks with --no-webhooks-for-api-writes
    assert config["webhook"]["api_writes"] is False
    assert config["rate_limit"]["endpoints"] == {"GET /space/user": 1.0}
    assert config["tokens"] == 2 and config["faults"]["latency_ms"] == 1.0
    assert "tok-a" not in log_text and "tok-b" not in log_text


def test_refuses_to_start_without_a_token() -> None:
    env = {k: v for k, v in os.environ.items() if k != "RESPOND_IO_STANDIN_TOKENS"}

    result = subprocess.run(
        [sys.executable, "-m", "sandbox.respond_io", "--host", "127.0.0.1", "--port", "9"],
        capture_output=True, text=True, env=env, timeout=30,
    )  # fmt: skip

    assert result.returncode == 2
    assert "RESPOND_IO_STANDIN_TOKENS" in result.stderr
