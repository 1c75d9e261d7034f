"""Build the stand-in's ASGI app: the ``/v2`` API behind :class:`.gate.ApiGate`, plus ``/__admin``."""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import JSONResponse

from sandbox.respond_io import admin, api
from sandbox.respond_io.endpoints import API_PREFIX
from sandbox.respond_io.errors import ApiError, error_response
from sandbox.respond_io.gate import ApiGate
from sandbox.respond_io.state import StandinState

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    from sandbox.respond_io.config import StandinConfig

__all__ = ["create_app"]


def create_app(config: StandinConfig) -> FastAPI:
    """The FastAPI app for one in-memory respond.io workspace configured by ``config``."""
    state = StandinState(config)

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await state.webhooks.start()
        try:
            yield
        finally:
            await state.webhooks.stop()

    app = FastAPI(
        title="respond.io stand-in",
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
    )
    app.state.standin = state
    app.include_router(api.router, prefix=API_PREFIX)
    app.include_router(admin.router, prefix="/__admin")
    app.add_middleware(ApiGate, state=state)

    @app.exception_handler(ApiError)
    async def api_error(request: Request, exc: ApiError) -> JSONResponse:
        return JSONResponse(exc.body(), exc.status)

    @app.exception_handler(RequestValidationError)
    async def request_validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        return error_response(400)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        return error_response(exc.status_code, "Not found" if exc.status_code == 404 else None)

    return app
