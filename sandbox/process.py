"""Start a stand-in server as a child process on a free 127.0.0.1 port and wait until it answers.

Used by the tests, the demo and the benchmarks, so every consumer starts the stand-ins the same way:

    with start_server("sandbox.respond_io", ["--rate-limit", "1000"]) as rio:
        requests.get(rio.url + "/__admin/health")

Each stand-in module is runnable as ``python -m <module> --host H --port P [options]`` and answers
``GET /__admin/health`` with 200 once it is ready.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

import requests

log = logging.getLogger(__name__)


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that is free right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class RunningServer:
    """A stand-in running as a child process."""

    module: str
    url: str
    process: subprocess.Popen[bytes]
    log_path: Path
    verify: str | bool = True
    _log_file: IO[bytes] | None = field(default=None, repr=False)

    def session(self) -> requests.Session:
        """A requests session that trusts this server (and ignores REQUESTS_CA_BUNDLE & co.)."""
        session = requests.Session()
        session.trust_env = False
        session.verify = self.verify
        return session

    def log_tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def stop(self, timeout: float = 10.0) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=timeout)
        if self._log_file is not None:
            self._log_file.close()
            self._log_file = None

    def __enter__(self) -> RunningServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def start_server(
    module: str,
    args: list[str] | None = None,
    *,
    scheme: str = "http",
    verify: str | bool = True,
    port: int | None = None,
    log_dir: Path | None = None,
    ready_timeout: float = 30.0,
    env: dict[str, str] | None = None,
) -> RunningServer:
    """Start ``python -m module --host 127.0.0.1 --port N *args`` and wait for ``/__admin/health``.

    :param module: the stand-in's module, e.g. ``sandbox.salesforce``.
    :param args: further command-line options for the stand-in.
    :param scheme: ``https`` for the Salesforce stand-in, which serves TLS.
    :param verify: CA bundle path (or ``True``) used to check the server while waiting for it.
    :param port: a fixed port; a free one is picked when omitted.
    :param log_dir: where the server's stdout/stderr go; a temporary folder when omitted.
    """
    port = port or free_port()
    log_dir = Path(log_dir or tempfile.mkdtemp(prefix="contact-sync-standin-"))
    log_dir.mkdir(parents=True, exist_ok=True)
    log_path = log_dir / f"{module.rsplit('.', 1)[-1]}-{port}.log"
    log_file = log_path.open("ab")
    cmd = [sys.executable, "-m", module, "--host", "127.0.0.1", "--port", str(port), *(args or [])]
    child_env = {**os.environ, **(env or {}), "PYTHONUNBUFFERED": "1"}
    process = subprocess.Popen(cmd, stdout=log_file, stderr=subprocess.STDOUT, env=child_env)  # noqa: S603
    server = RunningServer(
        module=module,
        url=f"{scheme}://127.0.0.1:{port}",
        process=process,
        log_path=log_path,
        verify=verify,
        _log_file=log_file,
    )
    deadline = time.monotonic() + ready_timeout
    with server.session() as session:
        while True:
            if process.poll() is not None:
                server.stop()
                raise RuntimeError(
                    f"{module} exited with code {process.returncode} before it was ready; "
                    f"its log ({log_path}):\n{server.log_tail()}"
                )
            with contextlib.suppress(requests.RequestException):
                if session.get(server.url + "/__admin/health", timeout=2).status_code == 200:
                    break
            if time.monotonic() > deadline:
                server.stop()
                raise RuntimeError(
                    f"{module} did not answer /__admin/health within {ready_timeout:.0f}s; "
                    f"its log ({log_path}):\n{server.log_tail()}"
                )
            time.sleep(0.1)
    log.info("started %s at %s (pid %s, log %s)", module, server.url, process.pid, log_path)
    return server
