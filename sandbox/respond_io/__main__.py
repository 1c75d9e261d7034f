"""CLI: ``python -m sandbox.respond_io --host H --port P [options]`` (see README.md)."""

from __future__ import annotations

import argparse
import logging
import os
import sys

from sandbox.respond_io.config import StandinConfig
from sandbox.respond_io.endpoints import endpoint_key
from sandbox.respond_io.faults import FaultConfig
from sandbox.respond_io.webhooks import WebhookConfig

log = logging.getLogger("sandbox.respond_io")

TOKENS_ENV = "RESPOND_IO_STANDIN_TOKENS"


def _endpoint_limit(text: str) -> tuple[str, float]:
    """Parse ``"POST /contact/create_or_update/{identifier}=10"`` (a concrete path is templated too)."""
    spec, sep, rate = text.rpartition("=")
    method, _, path = spec.strip().partition(" ")
    if not sep or not path:
        raise argparse.ArgumentTypeError("expected 'METHOD /path=RATE'")
    try:
        value = float(rate)
    except ValueError:
        raise argparse.ArgumentTypeError("rate must be a number") from None
    if value <= 0:
        raise argparse.ArgumentTypeError("rate must be positive")
    return endpoint_key(method, path.strip()), value


def _share(text: str) -> float:
    value = float(text)
    if not 0 <= value <= 1:
        raise argparse.ArgumentTypeError("must be between 0 and 1")
    return value


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m sandbox.respond_io", description="respond.io v2 API stand-in")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8081)
    p.add_argument(
        "--token", action="append", default=[], help=f"accepted bearer token (repeatable; or ${TOKENS_ENV})"
    )
    p.add_argument("--rate-limit", type=float, default=5.0, help="requests/s per endpoint (default 5)")
    p.add_argument(
        "--rate-limit-endpoint",
        type=_endpoint_limit,
        action="append",
        default=[],
        metavar="'METHOD /path=RATE'",
        help="per-endpoint limit, e.g. 'POST /contact/create_or_update/{identifier}=10' (repeatable)",
    )
    p.add_argument(
        "--create-delay", type=float, default=0.5, help="seconds a new contact answers 404 (default 0.5)"
    )
    p.add_argument("--webhook-url", default=None)
    p.add_argument("--webhook-secret", default=None, help="signing key for X-Webhook-Signature")
    p.add_argument("--webhook-attempts", type=int, default=3, help="delivery attempts per event (default 3)")
    p.add_argument(
        "--no-webhooks-for-api-writes",
        action="store_true",
        help="fire webhooks only for inbox edits (/__admin/inbox_edit), not for API writes",
    )
    p.add_argument("--latency-ms", type=float, default=0.0, help="added latency per API call")
    p.add_argument("--error-rate", type=_share, default=0.0, help="share of API calls answered 500/502/503")
    p.add_argument(
        "--pending-449-rate",
        type=_share,
        default=0.0,
        help="share of calls to a contact in its create window answered 449 instead of 404",
    )
    p.add_argument(
        "--email-case-sensitive", action="store_true", help="email identifiers match case-sensitively"
    )
    p.add_argument("--strict-tags", action="store_true", help="adding a tag missing from the workspace → 400")
    p.add_argument("--log-level", default="warning")
    return p


def config_from_args(args: argparse.Namespace) -> StandinConfig:
    tokens = [t for t in args.token if t]
    tokens += [t.strip() for t in os.environ.get(TOKENS_ENV, "").split(",") if t.strip()]
    return StandinConfig(
        tokens=tuple(dict.fromkeys(tokens)),
        rate_limit=args.rate_limit,
        endpoint_limits=dict(args.rate_limit_endpoint),
        create_delay=max(0.0, args.create_delay),
        email_case_sensitive=args.email_case_sensitive,
        strict_tags=args.strict_tags,
        faults=FaultConfig(
            latency_ms=args.latency_ms, error_rate=args.error_rate, pending_449_rate=args.pending_449_rate
        ),
        webhook=WebhookConfig(
            url=args.webhook_url,
            secret=args.webhook_secret,
            api_writes=not args.no_webhooks_for_api_writes,
            max_attempts=max(1, args.webhook_attempts),
        ),
    )


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=args.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s %(message)s")
    config = config_from_args(args)
    if args.rate_limit <= 0:
        print("--rate-limit must be positive", file=sys.stderr)
        return 2
    if not config.tokens:
        print(f"no API token configured: pass --token or set {TOKENS_ENV}", file=sys.stderr)
        return 2

    import uvicorn

    from sandbox.respond_io.app import create_app

    log.warning(
        "respond.io stand-in on http://%s:%s/v2 (%s token(s), %s req/s per endpoint, create delay %ss)",
        args.host,
        args.port,
        len(config.tokens),
        config.rate_limit,
        config.create_delay,
    )
    uvicorn.run(
        create_app(config),
        host=args.host,
        port=args.port,
        log_level=args.log_level.lower(),
        access_log=False,
        server_header=False,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
