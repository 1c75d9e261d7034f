"""Where the demo and `./dev standins` run the stand-ins: the ports and credentials airflow_settings.yaml names."""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse

PROJECT_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT_DIR / "scripts"))

from airflow_settings import load_settings  # noqa: E402

from sandbox.process import RunningServer, start_server  # noqa: E402


@dataclass(frozen=True)
class StandinSettings:
    salesforce_port: int
    client_id: str
    client_secret: str
    ca_file: str
    respond_io_port: int
    respond_io_token: str

    @classmethod
    def from_airflow_settings(cls, path: Path) -> StandinSettings:
        connections = {c["conn_id"]: c for c in load_settings(path)["connections"]}
        salesforce = connections["salesforce_default"]["conn_extra"]
        respond_io = connections["respond_io_default"]
        return cls(
            salesforce_port=urlparse(salesforce["instance_url"]).port or 443,
            client_id=salesforce["consumer_key"],
            client_secret=salesforce["consumer_secret"],
            ca_file=salesforce["ca_file"],
            respond_io_port=urlparse(respond_io["conn_host"]).port or 80,
            respond_io_token=respond_io["conn_password"],
        )


def start_standins(
    settings: StandinSettings, *, data_dir: Path, respond_io_rate_limit: float | None = None
) -> tuple[RunningServer, RunningServer]:
    """Start both stand-ins on the configured ports; a clear error if a port is taken."""
    for name, port in (("Salesforce", settings.salesforce_port), ("respond.io", settings.respond_io_port)):
        if not free_port_is(port):
            raise SystemExit(
                f"port {port} for the {name} stand-in is in use: stop what listens there "
                "(perhaps `./dev standins` in another shell) or change the connection in airflow_settings.yaml."
            )
    cert_dir = Path(settings.ca_file).parent
    data_dir.mkdir(parents=True, exist_ok=True)
    salesforce = start_server(
        "sandbox.salesforce",
        [
            "--data-dir",
            str(data_dir / "salesforce"),
            "--cert-dir",
            str(cert_dir),
            "--client-id",
            settings.client_id,
            "--client-secret",
            settings.client_secret,
        ],
        scheme="https",
        verify=settings.ca_file,
        port=settings.salesforce_port,
        log_dir=data_dir,
    )
    rio_args = ["--token", settings.respond_io_token]
    if respond_io_rate_limit:
        rio_args += ["--rate-limit", str(respond_io_rate_limit)]
    try:
        respond_io = start_server(
            "sandbox.respond_io", rio_args, port=settings.respond_io_port, log_dir=data_dir
        )
    except Exception:
        salesforce.stop()
        raise
    return salesforce, respond_io


def free_port_is(port: int) -> bool:
    import socket

    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True
