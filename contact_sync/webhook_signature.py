"""respond.io webhook signatures: ``X-Webhook-Signature`` = base64(HMAC-SHA256(signing key, raw body))."""

from __future__ import annotations

import base64
import hashlib
import hmac

SIGNATURE_HEADER = "X-Webhook-Signature"


def sign(secret: str, body: bytes) -> str:
    """The signature respond.io sends for ``body``."""
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


def verify(secret: str, body: bytes, signature: str | None) -> bool:
    """Whether ``signature`` is ``body``'s signature under ``secret`` (constant-time compare)."""
    if not secret or not signature:
        return False
    return hmac.compare_digest(sign(secret, body).encode(), signature.strip().encode())
