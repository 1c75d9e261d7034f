"""OAuth 2.0 for Salesforce against the org's My Domain URL: client credentials, or JWT bearer with a key.

simple-salesforce sends every login flow to ``*.salesforce.com`` and its SOAP username/password login is being
retired, so contact-sync authenticates itself and hands simple-salesforce the session id and instance URL.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import requests

TOKEN_PATH = "/services/oauth2/token"  # noqa: S105 - a URL path, not a secret
JWT_GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer"


class SalesforceAuthError(RuntimeError):
    """The token endpoint refused us; the message says what to fix (never the secret)."""


@dataclass(frozen=True)
class AccessToken:
    access_token: str
    instance_url: str
    issued_at: float

    def __repr__(self) -> str:  # never show the token
        return f"AccessToken(instance_url={self.instance_url!r}, issued_at={self.issued_at:.0f})"


@dataclass(frozen=True)
class OAuthSettings:
    """What the connection says about authentication (secrets stay out of repr)."""

    my_domain_url: str
    client_id: str
    client_secret: str | None = None
    username: str | None = None
    private_key: str | None = None
    audience: str = "https://login.salesforce.com"

    def __repr__(self) -> str:
        return f"OAuthSettings(my_domain_url={self.my_domain_url!r}, flow={self.flow!r})"

    @property
    def flow(self) -> str:
        return "jwt_bearer" if self.private_key else "client_credentials"


def fetch_token(session: requests.Session, settings: OAuthSettings, *, timeout: float = 30.0) -> AccessToken:
    """POST to ``{My Domain}/services/oauth2/token`` and return the access token and instance URL."""
    url = settings.my_domain_url.rstrip("/") + TOKEN_PATH
    if settings.private_key:
        if not settings.username:
            raise SalesforceAuthError(
                "JWT bearer login needs the Salesforce username in the connection's Login field."
            )
        form = {"grant_type": JWT_GRANT, "assertion": _jwt_assertion(settings)}
        auth = None
    else:
        if not settings.client_secret:
            raise SalesforceAuthError(
                "Client-credentials login needs the extra 'consumer_secret' (or a private key for JWT bearer)."
            )
        form = {"grant_type": "client_credentials"}
        auth = (settings.client_id, settings.client_secret)
    response = session.post(url, data=form, auth=auth, timeout=timeout)
    try:
        body = response.json()
    except ValueError:
        body = {}
    if response.status_code != 200 or "access_token" not in body:
        error = body.get("error") if isinstance(body, dict) else None
        description = body.get("error_description") if isinstance(body, dict) else None
        raise SalesforceAuthError(
            f"Salesforce refused the {settings.flow} login at {url} (HTTP {response.status_code}: "
            f"{error or 'no error code'}{': ' + description if description else ''}). Check the connection's "
            "consumer key/secret (or key and username) and that the connected app allows this flow."
        )
    return AccessToken(
        access_token=body["access_token"],
        instance_url=str(body.get("instance_url") or settings.my_domain_url).rstrip("/"),
        issued_at=time.time(),
    )


def _jwt_assertion(settings: OAuthSettings) -> str:
    import jwt

    now = int(time.time())
    claims = {"iss": settings.client_id, "sub": settings.username, "aud": settings.audience, "exp": now + 180}
    return jwt.encode(claims, settings.private_key, algorithm="RS256")
