"""Helpers for the respond.io stand-in tests: an API caller and a local webhook receiver."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any

import pytest
import requests

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

    from tests.fixtures.respond_io_standin import RespondIoStandin


class Api:
    """Plain ``requests`` calls against the stand-in's ``/v2`` base URL with the test token."""

    def __init__(self, standin: RespondIoStandin) -> None:
        self.standin = standin
        self.base = standin.url
        self.session = requests.Session()
        self.session.trust_env = False

    def call(
        self, method: str, path: str, body: Any = None, *, token: str | None = "default", **kwargs: Any
    ) -> requests.Response:
        headers = {"Content-Type": "application/json"}
        if token == "default":
            token = self.standin.token
        if token is not None:
            headers["Authorization"] = f"Bearer {token}"
        return self.session.request(
            method, self.base + path, json=body, headers=headers, timeout=10, **kwargs
        )

    def wait_ready(self, identifier: str, timeout: float = 3.0) -> dict[str, Any]:
        """GET the contact until it is out of its create window."""
        deadline = time.monotonic() + timeout
        while True:
            response = self.call("GET", f"/contact/{identifier}")
            if response.status_code == 200:
                return response.json()
            assert response.status_code == 404, response.text
            assert time.monotonic() < deadline, f"{identifier} never became visible"
            time.sleep(0.02)


@pytest.fixture
def api(respond_io: RespondIoStandin) -> Iterator[Api]:
    client = Api(respond_io)
    yield client
    client.session.close()


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class WebhookReceiver:
    """A tiny HTTP server collecting webhook POSTs; ``statuses`` lists the answers to give first."""

    url: str = ""
    received: list[Received] = field(default_factory=list)
    statuses: list[int] = field(default_factory=list)
    condition: threading.Condition = field(default_factory=threading.Condition)

    def wait_for(self, predicate: Callable[[list[Received]], bool], timeout: float = 5.0) -> list[Received]:
        with self.condition:
            assert self.condition.wait_for(lambda: predicate(self.received), timeout), (
                f"webhook condition not met; got {len(self.received)} requests"
            )
            return list(self.received)


@pytest.fixture
def webhook_receiver() -> Iterator[WebhookReceiver]:
    receiver = WebhookReceiver()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - http.server naming
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            with receiver.condition:
                status = receiver.statuses.pop(0) if receiver.statuses else 200
                receiver.received.append(Received(self.path, dict(self.headers.items()), body))
                receiver.condition.notify_all()
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - silence
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    receiver.url = f"http://127.0.0.1:{server.server_address[1]}/hooks/respond-io"
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        server.shutdown()
        server.server_close()
