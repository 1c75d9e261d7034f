"""Command line: ``python -m sandbox.salesforce --host 127.0.0.1 --port 8443 [options]``."""

from __future__ import annotations

import argparse
import logging
import tempfile
from pathlib import Path

from sandbox.certs import ensure_certificates
from sandbox.salesforce.config import Config


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m sandbox.salesforce", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8443)
    parser.add_argument(
        "--data-dir", type=Path, help="folder of the SQLite file (a temporary one if omitted)"
    )
    parser.add_argument(
        "--cert-dir", type=Path, help="folder of the local CA + server cert (default: <data-dir>/certs)"
    )
    parser.add_argument("--client-id", default=Config.client_id, help="connected app consumer key")
    parser.add_argument("--client-secret", default=Config.client_secret, help="connected app consumer secret")
    parser.add_argument("--jwt-cert", type=Path, help="PEM certificate whose key signs JWT bearer assertions")
    parser.add_argument(
        "--jwt-audience",
        action="append",
        default=None,
        help="accepted JWT aud (repeatable; default login/test.salesforce.com)",
    )
    parser.add_argument(
        "--username", default=Config.username, help="the user JWT assertions must name in sub"
    )
    parser.add_argument(
        "--refresh-token", action="append", default=[], help="a valid refresh token (repeatable)"
    )
    parser.add_argument("--daily-api-limit", type=int, default=Config.daily_api_limit)
    parser.add_argument("--page-size", type=int, default=Config.page_size, help="default query batch size")
    parser.add_argument("--latency-ms", type=float, default=0.0, help="latency added to every API request")
    parser.add_argument("--error-rate", type=float, default=0.0, help="share of API requests answering 503")
    parser.add_argument(
        "--session-ttl", type=float, default=Config.session_ttl, help="session idle timeout (s)"
    )
    parser.add_argument("--bulk-job-ms", type=float, default=0.0, help="how long query jobs stay InProgress")
    parser.add_argument("--seed", type=int, help="seed of the fault-injection random generator")
    parser.add_argument("--max-version", type=float, default=Config.max_version)
    parser.add_argument("--log-level", default="INFO")
    return parser


def main(argv: list[str] | None = None) -> None:
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=args.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    import uvicorn

    from sandbox.salesforce.app import create_app

    data_dir = args.data_dir or Path(tempfile.mkdtemp(prefix="sf-standin-"))
    certs = ensure_certificates(args.cert_dir or data_dir / "certs")
    config = Config(
        data_dir=data_dir,
        client_id=args.client_id,
        client_secret=args.client_secret,
        jwt_cert=args.jwt_cert,
        jwt_audiences=tuple(args.jwt_audience or Config.jwt_audiences),
        refresh_tokens=list(args.refresh_token),
        username=args.username,
        daily_api_limit=args.daily_api_limit,
        page_size=max(200, min(2000, args.page_size)),
        latency_ms=args.latency_ms,
        error_rate=args.error_rate,
        session_ttl=args.session_ttl,
        bulk_job_ms=args.bulk_job_ms,
        seed=args.seed,
        max_version=args.max_version,
    )
    app = create_app(config)
    logging.getLogger(__name__).info(
        "Salesforce stand-in on https://%s:%s (data %s, CA %s)", args.host, args.port, data_dir, certs.ca_file
    )
    uvicorn.run(
        app,
        host=args.host,
        port=args.port,
        ssl_certfile=certs.cert_file,
        ssl_keyfile=certs.key_file,
        log_level="warning",
        access_log=False,
        timeout_graceful_shutdown=3,
    )


if __name__ == "__main__":
    main()
