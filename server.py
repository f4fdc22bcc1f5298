"""The HTTP face of Helloword (FastAPI): the customer API and its event stream, the agent
console and admin APIs behind sign-in, the pages (demo shop with the widget, console, admin,
login), health, readiness and metrics.

    helloword serve            # http://127.0.0.1:8000
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from types import FrameType
from typing import Any

import uvicorn
from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi.staticfiles import StaticFiles

from agent.service import SupportAgent
from api import admin, analytics, console, customer, operations, pages, signin, tracking
from api.errors import ERROR_HANDLERS
from api.limits import RequestLimits
from api.middleware import BodyLimit, Metrics, RequestGuard
from commerce.db import Store
from config import Settings, get_settings
from support.runtime import EventBus, Runtime


def create_app(
    settings: Settings | None = None,
    *,
    store: Store | None = None,
    agent: SupportAgent | None = None,
    **runtime_options: Any,
) -> FastAPI:
    """The app on one runtime; `runtime_options` go to `Runtime` (e.g. `clock`, `agent_factory`)."""
    settings = settings or get_settings()
    runtime = Runtime(settings, store=store, agent=agent, **runtime_options)

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        yield
        runtime.close()

    app = FastAPI(
        title="Helloword",
        version="0.1.0",
        description="After-sales support agent for cross-border sellers: customer, console and admin APIs.",
        lifespan=lifespan,
        exception_handlers=ERROR_HANDLERS,
    )
    app.state.runtime = runtime
    app.state.limits = limits = RequestLimits(settings)
    app.state.metrics = metrics = Metrics()
    app.state.reports = analytics.ReportCache()
    app.middleware("http")(RequestGuard(settings.max_body_bytes, limits.per_ip, metrics))
    app.add_middleware(BodyLimit, max_body_bytes=settings.max_body_bytes)
    if settings.allowed_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.allowed_origins,
            allow_methods=["GET", "POST"],
            allow_headers=["Authorization", "Content-Type"],
            expose_headers=["Retry-After"],
            max_age=600,
        )
    for module in (operations, signin, customer, console, admin, analytics, tracking, pages):
        app.include_router(module.router)
    if settings.demo_mode:
        app.include_router(pages.demo_router)
    if (pages.WEB / "static").is_dir():
        app.mount("/static", StaticFiles(directory=pages.WEB / "static"), name="static")
    return app


class StreamClosingServer(uvicorn.Server):
    """uvicorn, with the application's open event streams ended as soon as the server is told to
    stop (SIGTERM, Ctrl-C): otherwise each would hold the shutdown until the graceful timeout."""

    def __init__(self, config: uvicorn.Config, bus: EventBus) -> None:
        super().__init__(config)
        self.bus = bus

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        self.bus.close()
        super().handle_exit(sig, frame)
