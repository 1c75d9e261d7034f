"""The inbox service: one FastAPI app, run standalone with uvicorn or mounted in the Airflow api-server.

Routes (relative to the app; inside Airflow under the plugin's prefix ``/contact-sync-inbox``):

=============================  =====================================================================
``GET /api/v1/lookup``         ``email=`` or ``phone=`` (+ ``region=``): match status, fields, link, age
``GET /healthz``               liveness, no data, no auth
``GET|POST /login``            the login form; ``POST /logout``
``GET /sidebar``               what the inbox shows for a contact (login)
``GET /audit``                 failures by reason (chart), open failures, run history (login)
``GET /audit/failures.csv``    the failures of the audit filters as CSV (login)
``POST /sidebar/edit|discard`` queue or discard a field edit for Salesforce (login; ``writeback.py``)
``POST /webhooks/respond-io``  respond.io ``contact.updated`` webhooks, signature checked (``writeback.py``)
=============================  =====================================================================

Every error is JSON ``{"error": code, "message": text}`` on the API (HTML on the pages); bad input is a 4xx.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response, StreamingResponse
from fastapi.templating import Jinja2Templates
from starlette.exceptions import HTTPException as StarletteHTTPException

from contact_sync_inbox.auth import (
    ApiNotConfigured,
    NotAuthenticated,
    TooManyAttempts,
    bearer_ok,
)
from contact_sync_inbox.lookup import MAX_LENGTH, BadInput
from contact_sync_inbox.runtime import LazyRuntime, Runtime

if TYPE_CHECKING:
    from collections.abc import Callable

    from sqlalchemy.engine import Engine
    from starlette.types import ASGIApp, Message, Receive, Scope, Send

    from contact_sync_inbox.config import InboxConfig

log = logging.getLogger(__name__)

TEMPLATES = Jinja2Templates(directory=str(Path(__file__).resolve().parent / "templates"))
SECURITY_HEADERS = [
    (b"cache-control", b"no-store"),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (
        b"content-security-policy",
        b"default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; form-action 'self'; "
        b"frame-ancestors 'self'; base-uri 'none'",
    ),
]
STATUS_CODES = {"matched": 200, "ambiguous": 200, "not_found": 200, "invalid_input": 422}


class SecurityHeaders:
    """Adds no-store caching and a strict CSP to every response (pure ASGI: no per-request task overhead).

    Also makes ``url_for`` resolve this app's routes when it is mounted behind a wrapper (the Airflow plugin's
    lazy app), where Starlette would otherwise look names up in the outer app's router.
    """

    def __init__(self, app: ASGIApp, router: Any = None) -> None:
        self.app = app
        self.router = router

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if self.router is not None:
            scope["router"] = self.router
            scope["app_root_path"] = scope.get("root_path", "")

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message.setdefault("headers", [])
                present = {name.lower() for name, _ in message["headers"]}
                message["headers"].extend(h for h in SECURITY_HEADERS if h[0] not in present)
            await send(message)

        await self.app(scope, receive, send_with_headers)


def _is_page(request: Request) -> bool:
    path = request.url.path[len(request.scope.get("root_path") or "") :]
    return not path.startswith("/api/")


def _error(
    status: int, code: str, message: str, *, headers: dict[str, str] | None = None, **extra: Any
) -> JSONResponse:
    return JSONResponse({"error": code, "message": message, **extra}, status_code=status, headers=headers)


def _safe_next(value: str | None) -> str:
    """Only a path inside this app (no scheme, no host, no ``//``): no open redirect after login."""
    if not value or not value.startswith("/") or value.startswith("//") or "\\" in value or len(value) > 2000:
        return "/sidebar"
    if any(ord(ch) < 32 for ch in value):
        return "/sidebar"
    return value


def create_app(
    config: InboxConfig | Callable[[], InboxConfig] | None = None, *, engine: Engine | None = None
) -> FastAPI:
    """Build the app. Nothing is read or opened until the first request.

    :param config: the configuration, or a function returning it (called once, on the first request);
        default: :func:`contact_sync_inbox.config.load_config` (environment and secrets file).
    :param engine: a state DB engine to use instead of the configured one (tests, benchmarks).
    """
    if config is None:
        from contact_sync_inbox.config import load_config

        config = load_config
    lazy = LazyRuntime(config, engine)
    app = FastAPI(
        title="contact-sync inbox",
        summary="Salesforce contact lookup for the respond.io inbox, sidebar and audit pages",
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
    )
    app.state.runtime = lazy
    app.add_middleware(SecurityHeaders, router=app.router)

    def runtime() -> Runtime:
        return lazy.get()

    def require_user(request: Request) -> tuple[Runtime, str]:
        rt = runtime()
        user = rt.sessions.user(request)
        if user is None:
            raise NotAuthenticated("log in to see this page", page=True)
        return rt, user

    # -- errors -------------------------------------------------------------------------------------------

    @app.exception_handler(BadInput)
    async def bad_input(request: Request, exc: BadInput) -> Response:
        if _is_page(request):
            return HTMLResponse(f"<!doctype html><p>Bad request: {_esc(str(exc))}</p>", status_code=400)
        return _error(400, "bad_request", str(exc), parameter=exc.parameter)

    @app.exception_handler(NotAuthenticated)
    async def not_authenticated(request: Request, exc: NotAuthenticated) -> Response:
        if exc.page:
            target = request.url.path[len(request.scope.get("root_path") or "") :]
            if request.url.query:
                target += "?" + request.url.query
            login = str(request.url_for("login_form").include_query_params(next=_safe_next(target)))
            return RedirectResponse(login, status_code=303)
        return _error(401, "unauthorized", str(exc), headers={"WWW-Authenticate": "Bearer"})

    @app.exception_handler(ApiNotConfigured)
    async def api_not_configured(request: Request, exc: ApiNotConfigured) -> Response:
        return _error(503, "not_configured", "the inbox API token is not configured on the server")

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        codes = {404: "not_found", 405: "method_not_allowed"}
        return _error(exc.status_code, codes.get(exc.status_code, "http_error"), str(exc.detail))

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError) -> Response:
        first = exc.errors()[0] if exc.errors() else {}
        where = ".".join(str(p) for p in first.get("loc", ()) if p not in {"query", "body"})
        return _error(400, "bad_request", f"{where or 'request'}: {first.get('msg', 'invalid')}")

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> Response:
        log.error("inbox: unexpected %s on %s", type(exc).__name__, request.url.path, exc_info=exc)
        return _error(500, "internal_error", "the inbox service failed; the error is in its log")

    # -- API ------------------------------------------------------------------------------------------------

    @app.get("/healthz", include_in_schema=False)
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/api/v1/lookup", name="api_lookup")
    def api_lookup(
        request: Request, email: str | None = None, phone: str | None = None, region: str | None = None
    ) -> Response:
        rt = runtime()
        if not bearer_ok(rt.config, request.headers.get("authorization")):
            raise NotAuthenticated("a valid bearer token is required", page=False)
        if (email is None) == (phone is None):
            raise BadInput("give exactly one of 'email' or 'phone'", parameter="email")
        if region is not None and email is not None:
            raise BadInput("'region' only applies to 'phone'", parameter="region")
        kind = "email" if email is not None else "phone"
        result = rt.lookups.lookup(kind, email if email is not None else phone, region=region)
        body = result.as_json()
        if result.status == "invalid_input":
            body["error"] = "invalid_input"
        return JSONResponse(body, status_code=STATUS_CODES[result.status])

    # -- login ------------------------------------------------------------------------------------------

    @app.get("/login", name="login_form", response_class=HTMLResponse)
    def login_form(request: Request, next: str | None = None) -> Response:  # noqa: A002 - the form's name
        rt = runtime()
        return TEMPLATES.TemplateResponse(
            request,
            "login.html",
            {"next": _safe_next(next), "error": None, "no_users": not rt.config.users, "user": None},
        )

    @app.post("/login", name="login")
    async def login(request: Request) -> Response:
        rt = runtime()
        form = await request.form(max_files=0, max_fields=10)
        username = str(form.get("username") or "")[:64]
        password = str(form.get("password") or "")[:1024]
        target = _safe_next(str(form.get("next") or ""))
        error = None
        try:
            from starlette.concurrency import run_in_threadpool

            ok = await run_in_threadpool(rt.sessions.check_password, username, password)
        except TooManyAttempts as err:
            ok, error = False, str(err)
        if ok:
            response = RedirectResponse(_app_url(request, target), status_code=303)
            rt.sessions.login(response, request, username)
            log.info("inbox: user logged in")
            return response
        return TEMPLATES.TemplateResponse(
            request,
            "login.html",
            {
                "next": target,
                "error": error or "wrong user name or password",
                "no_users": not rt.config.users,
                "user": None,
            },
            status_code=429 if error else 401,
        )

    @app.post("/logout", name="logout")
    def logout(request: Request) -> Response:
        rt = runtime()
        response = RedirectResponse(str(request.url_for("login_form")), status_code=303)
        rt.sessions.logout(response, request)
        return response

    from contact_sync_inbox import writeback

    writeback_rules = writeback.register(app, runtime, require_user)

    # -- pages ------------------------------------------------------------------------------------------

    @app.get("/", include_in_schema=False)
    def index(request: Request) -> Response:
        return RedirectResponse(str(request.url_for("sidebar")), status_code=303)

    @app.get("/sidebar", name="sidebar", response_class=HTMLResponse)
    def sidebar(
        request: Request, email: str | None = None, phone: str | None = None, region: str | None = None
    ) -> Response:
        rt, user = require_user(request)
        email, phone, region = (v.strip() if v else None for v in (email, phone, region))
        result, error = None, None
        try:
            if email and phone:
                raise BadInput("give an email or a phone, not both", parameter="email")
            if email:
                result = rt.lookups.lookup("email", email)
            elif phone:
                result = rt.lookups.lookup("phone", phone, region=region)
        except BadInput as err:
            error = str(err)
        context = {
            "user": user,
            "result": result,
            "error": error,
            "form": {"email": email or "", "phone": phone or "", "region": region or ""},
            "max_length": MAX_LENGTH,
            "writeback": writeback.sidebar_context(
                rt, writeback_rules, [c.sf_id for c in result.contacts] if result else []
            ),
        }
        return TEMPLATES.TemplateResponse(request, "sidebar.html", context, status_code=400 if error else 200)

    @app.get("/audit", name="audit", response_class=HTMLResponse)
    def audit(
        request: Request,
        start: str | None = None,
        end: str | None = None,
        reason: str | None = None,
        status: str | None = None,
    ) -> Response:
        from contact_sync.reasons import Reason
        from contact_sync_inbox.audit import build_view, parse_filters

        rt, user = require_user(request)
        filters = parse_filters(start, end, reason, status)
        view = build_view(rt.engine, filters)
        reasons = sorted({r.value for r in Reason} | {code for code, _, _ in view.legend} - {"other"})
        context = {
            "user": user,
            "view": view,
            "reasons": reasons,
            "csv_query": urlencode(filters.query()),
        }
        return TEMPLATES.TemplateResponse(request, "audit.html", context)

    @app.get("/audit/failures.csv", name="audit_csv")
    def audit_csv(
        request: Request,
        start: str | None = None,
        end: str | None = None,
        reason: str | None = None,
        status: str | None = None,
    ) -> Response:
        from contact_sync_inbox.audit import failures_csv, failures_for_table, parse_filters

        rt, _user = require_user(request)
        filters = parse_filters(start, end, reason, status)
        name = f"contact-sync-failures_{filters.start.isoformat()}_{filters.end.isoformat()}.csv"
        return StreamingResponse(
            failures_csv(failures_for_table(rt.engine, filters)),
            media_type="text/csv; charset=utf-8",
            headers={"content-disposition": f'attachment; filename="{name}"'},
        )

    return app


def _app_url(request: Request, path: str) -> str:
    return (request.scope.get("root_path") or "").rstrip("/") + path


def _esc(text: str) -> str:
    from html import escape

    return escape(text)
