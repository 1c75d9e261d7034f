"""A local stand-in for respond.io's Developer API v2 (contacts, tags, custom fields, webhooks).

Run it with ``python -m sandbox.respond_io --host 127.0.0.1 --port 8081 --token T``; see README.md.
The client side shares :func:`sandbox.respond_io.endpoints.endpoint_key` for its rate limiter.
"""

from __future__ import annotations

from sandbox.respond_io.endpoints import endpoint_key

__all__ = ["endpoint_key"]
