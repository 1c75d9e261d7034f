"""Rate-limit keys for respond.io endpoints: ``METHOD /path/{template}``.

respond.io limits requests per endpoint (method + path template), per organisation. The stand-in's token
buckets and the client's limiter must agree on what "one endpoint" is, so both call :func:`endpoint_key`:

>>> endpoint_key("post", "https://api.respond.io/v2/contact/create_or_update/email:a+b@x.com")
'POST /contact/create_or_update/{identifier}'
>>> endpoint_key("POST", "/contact/id:12/tag")
'POST /contact/{identifier}/tag'
>>> endpoint_key("POST", "/v2/contact/list?limit=100&cursorId=7")
'POST /contact/list'
"""

from __future__ import annotations

from urllib.parse import urlsplit

__all__ = ["API_PREFIX", "endpoint_key", "template_path"]

#: Path prefix of the v2 API (the base URL is ``https://api.respond.io/v2``).
API_PREFIX = "/v2"

# Literal second segments of /contact/... that are not identifiers.
_CONTACT_LITERALS = frozenset({"list", "merge", "create_or_update"})


def template_path(path: str) -> str:
    """Turn a concrete API path into its template, e.g. ``/contact/id:1/tag`` → ``/contact/{identifier}/tag``.

    Accepts a full URL or a path, with or without the ``/v2`` prefix and query string. Paths that are not
    known respond.io contact/space paths come back normalised but otherwise unchanged.

    :param path: the request path or URL.
    """
    if "://" in path:
        path = urlsplit(path).path
    path = path.split("?", 1)[0].split("#", 1)[0]
    if path == API_PREFIX or path.startswith(API_PREFIX + "/"):
        path = path[len(API_PREFIX) :]
    parts = [p for p in path.split("/") if p]
    if not parts:
        return "/"
    if parts[0] == "contact" and len(parts) >= 2:
        if parts[1] == "create_or_update" and len(parts) == 3:
            parts[2] = "{identifier}"
        elif parts[1] not in _CONTACT_LITERALS:
            parts[1] = "{identifier}"
    elif parts[0] == "space" and len(parts) >= 3:
        # /space/custom_field/{id}, /space/user/{id}, /space/channel/{id}/template
        parts[2] = "{id}"
    return "/" + "/".join(parts)


def endpoint_key(method: str, path: str) -> str:
    """The rate-limit key of a request: upper-case method, a space, and the path template.

    :param method: HTTP method (any case).
    :param path: request path or full URL (``/v2`` prefix and query string are ignored).
    """
    return f"{method.upper()} {template_path(path)}"
