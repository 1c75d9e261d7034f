"""``python -m contact_sync_inbox --host 127.0.0.1 --port 8090``: the standalone inbox service (uvicorn).

Configuration comes from ``CONTACT_SYNC_INBOX_*`` variables and the secrets file (docs/inbox-service.md);
the configuration is checked before the server starts, so a bad setting fails here with a clear message.
"""

from __future__ import annotations

import argparse
import logging
import sys


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m contact_sync_inbox", description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8090)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--log-level", default="info")
    parser.add_argument(
        "--proxy-headers", action="store_true", help="trust X-Forwarded-* from --forwarded-allow-ips"
    )
    parser.add_argument("--forwarded-allow-ips", default="127.0.0.1")
    parser.add_argument("--ssl-certfile")
    parser.add_argument("--ssl-keyfile")
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=args.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )

    import uvicorn

    from contact_sync_inbox.config import InboxConfigError, load_config

    try:
        load_config()
    except (InboxConfigError, OSError) as err:
        print(f"contact-sync inbox: configuration error: {err}", file=sys.stderr)  # noqa: T201 - CLI output
        return 2
    uvicorn.run(
        "contact_sync_inbox.asgi:app",
        host=args.host,
        port=args.port,
        workers=args.workers,
        log_level=args.log_level,
        access_log=False,
        proxy_headers=args.proxy_headers,
        forwarded_allow_ips=args.forwarded_allow_ips,
        ssl_certfile=args.ssl_certfile,
        ssl_keyfile=args.ssl_keyfile,
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
