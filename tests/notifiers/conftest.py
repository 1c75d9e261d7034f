"""Tiny local receivers for alerts: an HTTP webhook sink and an SMTP sink (stdlib only), on 127.0.0.1:0."""

from __future__ import annotations

import json
import socketserver
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest


@dataclass
class Received:
    items: list[dict[str, Any]] = field(default_factory=list)
    status: int = 200
    port: int = 0


@pytest.fixture
def webhook_sink():
    """An HTTP server recording every POST (path, headers, JSON body); answers ``sink.status``."""
    sink = Received()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            sink.items.append({"path": self.path, "headers": dict(self.headers), "json": json.loads(body)})
            self.send_response(sink.status)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    sink.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield sink
    server.shutdown()
    server.server_close()
    thread.join(5)


@pytest.fixture
def smtp_sink():
    """A minimal SMTP server (HELO/EHLO, MAIL, RCPT, DATA, RSET, NOOP, QUIT) recording each message."""
    sink = Received()

    class Handler(socketserver.StreamRequestHandler):
        def reply(self, line: str) -> None:
            self.wfile.write(line.encode("ascii") + b"\r\n")

        def handle(self) -> None:
            self.reply("220 sink ESMTP")
            mail: dict[str, Any] = {"rcpt": []}
            while line := self.rfile.readline():
                command = line.decode("utf-8", "replace").rstrip("\r\n")
                verb = command[:4].upper()
                if verb in {"HELO", "EHLO"}:
                    self.reply("250 sink")
                elif verb == "MAIL":
                    mail = {"from": command[10:].strip("<> "), "rcpt": []}
                    self.reply("250 OK")
                elif verb == "RCPT":
                    mail["rcpt"].append(command[8:].strip("<> "))
                    self.reply("250 OK")
                elif verb == "DATA":
                    self.reply("354 End data with <CR><LF>.<CR><LF>")
                    data = []
                    while (chunk := self.rfile.readline()) not in (b".\r\n", b""):
                        data.append(chunk[1:] if chunk.startswith(b"..") else chunk)
                    mail["data"] = b"".join(data)
                    sink.items.append(mail)
                    self.reply("250 OK queued")
                elif verb == "QUIT":
                    self.reply("221 Bye")
                    return
                else:  # RSET, NOOP, anything else
                    self.reply("250 OK")

    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    sink.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield sink
    server.shutdown()
    server.server_close()
    thread.join(5)
