"""OAuth 2.0 token grants and access-token sessions of the stand-in.

Grants: ``client_credentials`` (id/secret in the body or HTTP Basic), the JWT bearer grant (RS256
assertion checked against ``--jwt-cert``: signature, ``iss`` = client id, ``aud``, ``exp``, ``sub``) and
``refresh_token``. Refresh tokens are never returned by those grants (as in Salesforce, where only the
web-server/user-agent flows issue them); they are configured with ``--refresh-token`` or issued by
``POST /__admin/refresh-tokens``, standing in for a one-off interactive authorisation.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets
import threading
import time
from dataclasses import dataclass
from typing import Any

from sandbox.salesforce.config import Config
from sandbox.salesforce.errors import OAuthError
from sandbox.salesforce.store import API_USER_ID, ORG_ID

JWT_GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer"


@dataclass
class Session:
    token: str
    user_id: str
    created: float
    last_used: float


class Sessions:
    """Access tokens and their idle expiry (``session_ttl`` seconds of inactivity)."""

    def __init__(self, config: Config) -> None:
        self.config = config
        self._lock = threading.Lock()
        self._sessions: dict[str, Session] = {}
        self._refresh_tokens: set[str] = set(config.refresh_tokens)
        self._jwt_key: Any = None
        if config.jwt_cert is not None:
            self._jwt_key = _load_public_key(config.jwt_cert.read_bytes())

    # sessions
    def issue(self, user_id: str = API_USER_ID) -> Session:
        token = f"{ORG_ID[:15]}!AQ{secrets.token_urlsafe(72)}"
        now = time.monotonic()
        session = Session(token, user_id, now, now)
        with self._lock:
            self._sessions[token] = session
        return session

    def check(self, token: str | None) -> Session | None:
        """The live session of ``token`` (touching it), or ``None`` when unknown or idle too long."""
        if not token:
            return None
        now = time.monotonic()
        with self._lock:
            session = self._sessions.get(token)
            if session is None:
                return None
            if now - session.last_used > self.config.session_ttl:
                del self._sessions[token]
                return None
            session.last_used = now
            return session

    def expire_all(self) -> int:
        with self._lock:
            count = len(self._sessions)
            self._sessions.clear()
            return count

    def issue_refresh_token(self) -> str:
        token = "5Aep" + secrets.token_urlsafe(60)
        with self._lock:
            self._refresh_tokens.add(token)
        return token

    def revoke_refresh_tokens(self) -> None:
        with self._lock:
            self._refresh_tokens.clear()

    # grants
    def grant(self, form: dict[str, str], basic: tuple[str, str] | None, instance_url: str) -> dict[str, Any]:
        """Run the token endpoint for a parsed form body; returns the success JSON or raises ``OAuthError``."""
        grant_type = form.get("grant_type", "")
        if grant_type == "client_credentials":
            client_id, client_secret = basic or (form.get("client_id", ""), form.get("client_secret", ""))
            self._check_client(client_id, client_secret, secret_required=True)
        elif grant_type == JWT_GRANT:
            self._check_jwt(form.get("assertion", ""))
        elif grant_type == "refresh_token":
            client_id, client_secret = basic or (form.get("client_id", ""), form.get("client_secret", ""))
            self._check_client(client_id, client_secret, secret_required=False)
            with self._lock:
                valid = form.get("refresh_token", "") in self._refresh_tokens
            if not valid:
                raise OAuthError("invalid_grant", "expired access/refresh token")
        elif grant_type == "password":
            raise OAuthError("invalid_grant", "authentication failure")
        elif not grant_type:
            raise OAuthError("unsupported_grant_type", "grant type not supported")
        else:
            raise OAuthError("unsupported_grant_type", "grant type not supported")
        session = self.issue()
        issued_at = str(int(time.time() * 1000))
        identity = f"https://login.salesforce.com/id/{ORG_ID}/{session.user_id}"
        signature = base64.b64encode(
            hmac.new(
                self.config.client_secret.encode(), (identity + issued_at).encode(), hashlib.sha256
            ).digest()
        ).decode()
        return {
            "access_token": session.token,
            "signature": signature,
            "scope": "api",
            "instance_url": instance_url,
            "id": identity,
            "token_type": "Bearer",
            "issued_at": issued_at,
        }

    def _check_client(self, client_id: str, client_secret: str, *, secret_required: bool) -> None:
        if not client_id or not hmac.compare_digest(client_id, self.config.client_id):
            raise OAuthError("invalid_client_id", "client identifier invalid")
        if (secret_required or client_secret) and not hmac.compare_digest(
            client_secret, self.config.client_secret
        ):
            raise OAuthError("invalid_client", "invalid client credentials")

    def _check_jwt(self, assertion: str) -> None:
        import jwt

        if not assertion:
            raise OAuthError("invalid_request", "assertion is required")
        try:
            unverified = jwt.decode(assertion, options={"verify_signature": False})
        except jwt.PyJWTError as exc:
            raise OAuthError("invalid_grant", "invalid assertion") from exc
        if unverified.get("iss") != self.config.client_id:
            raise OAuthError("invalid_client_id", "client identifier invalid")
        if self._jwt_key is None:
            raise OAuthError("invalid_grant", "invalid assertion")
        try:
            claims = jwt.decode(
                assertion,
                self._jwt_key,
                algorithms=["RS256"],
                audience=list(self.config.jwt_audiences),
                options={"require": ["exp", "iss", "aud", "sub"]},
            )
        except jwt.InvalidAudienceError as exc:
            raise OAuthError("invalid_grant", "audience is invalid") from exc
        except jwt.ExpiredSignatureError as exc:
            raise OAuthError("invalid_grant", "expired authorization code") from exc
        except jwt.PyJWTError as exc:
            raise OAuthError("invalid_grant", "invalid assertion") from exc
        if claims.get("sub") != self.config.username:
            raise OAuthError("invalid_grant", "user hasn't approved this consumer")


def parse_basic(header: str | None) -> tuple[str, str] | None:
    """``Authorization: Basic base64(id:secret)`` → ``(id, secret)``."""
    if not header or not header.lower().startswith("basic "):
        return None
    try:
        decoded = base64.b64decode(header[6:].strip()).decode()
    except (binascii.Error, UnicodeDecodeError):
        return None
    client_id, _, client_secret = decoded.partition(":")
    return client_id, client_secret


def _load_public_key(pem: bytes) -> Any:
    """The public key of an X.509 certificate PEM (or a bare public key PEM)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization

    if b"BEGIN CERTIFICATE" in pem:
        return x509.load_pem_x509_certificate(pem).public_key()
    return serialization.load_pem_public_key(pem)
