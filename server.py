"""The HTTP face of Helloword (FastAPI): the customer API and its event stream, the agent
console and admin APIs behind sign-in, the pages (demo shop with the widget, console, admin,
login), health, readiness and metrics.

    helloword serve            # http://127.0.0.1:8000
"""

from __future__ import annotations

import contextlib
import json
import logging
import statistics
import time
import uuid
from collections import Counter, deque
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any
from urllib.parse import quote

from fastapi import FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import FileResponse, JSONResponse, PlainTextResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import text
from starlette.exceptions import HTTPException as StarletteHTTPException

from agent.service import MessageError, SupportAgent
from api import admin, analytics, console, customer, tracking
from api.auth import SESSION_COOKIE, SESSION_SECONDS, AuthError, login, make_session, read_session
from api.limits import RateLimited
from api.runtime import Runtime
from commerce.db import Store
from config import Settings, get_settings
from tools import tool_schemas

WEB = Path(__file__).resolve().parent / "web"
log = logging.getLogger("helloword.http")


class Login(BaseModel):
    model_config = ConfigDict(extra="forbid")
    email: str = Field(min_length=3, max_length=254)
    password: str = Field(min_length=1, max_length=200)


class Metrics:
    """Request counts by route and status, and latency, for /metrics."""

    def __init__(self) -> None:
        self.requests: Counter[tuple[str, str, int]] = Counter()
        self.latency: deque[float] = deque(maxlen=5000)

    def record(self, method: str, route: str, status: int, seconds: float) -> None:
        self.requests[(method, route, status)] += 1
        self.latency.append(seconds)

    def render(self) -> str:
        lines = ["# TYPE helloword_http_requests_total counter"]
        for (method, route, status), count in sorted(self.requests.items()):
            lines.append(f'helloword_http_requests_total{{method="{method}",route="{route}",status="{status}"}} {count}')
        if self.latency:
            ordered = sorted(self.latency)
            lines += [
                "# TYPE helloword_http_latency_seconds summary",
                f'helloword_http_latency_seconds{{quantile="0.5"}} {statistics.median(ordered):.6f}',
                f'helloword_http_latency_seconds{{quantile="0.95"}} {ordered[int(0.95 * (len(ordered) - 1))]:.6f}',
            ]
        return "\n".join(lines) + "\n"


def _error(status: int, message: str, **extra: Any) -> JSONResponse:
    return JSONResponse({"error": message, **extra}, status_code=status)


def create_app(
    settings: Settings | None = None,
    *,
    store: Store | None = None,
    agent: SupportAgent | None = None,
    **runtime_options: Any,
) -> FastAPI:
    settings = settings or get_settings()
    stores: list[Store] = [store] if store is not None else []

    def opened_store() -> Store:
        # Opened on first use, so the process starts (and reports not ready) while the database is down.
        if not stores:
            stores.append(Store(settings.resolved_database_url))
        return stores[0]

    runtimes: list[Runtime] = []

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        yield
        if runtimes:
            runtimes[0].close()

    app = FastAPI(
        title="Helloword",
        version="0.1.0",
        description="After-sales support agent for cross-border sellers: customer, console and admin APIs.",
        lifespan=lifespan,
    )

    def runtime() -> Runtime:
        if not runtimes:
            runtimes.append(Runtime.create(settings, store=opened_store(), agent=agent, **runtime_options))
        return runtimes[0]

    app.state.runtime = runtime
    metrics = Metrics()

    # ---------------------------------------------------------------- errors

    @app.exception_handler(AuthError)
    async def auth_error(request: Request, error: AuthError) -> JSONResponse:
        return _error(error.status, error.message)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, error: StarletteHTTPException) -> JSONResponse:
        messages = {404: f"no such page or route: {request.url.path}", 405: f"{request.method} is not allowed here"}
        response = _error(error.status_code, messages.get(error.status_code, str(error.detail)))
        for name, value in (error.headers or {}).items():
            response.headers[name] = value
        return response

    @app.exception_handler(RateLimited)
    async def rate_limited(request: Request, error: RateLimited) -> JSONResponse:
        response = _error(429, str(error), retry_after=error.retry_after)
        response.headers["Retry-After"] = str(error.retry_after)
        return response

    @app.exception_handler(LookupError)
    async def not_found(request: Request, error: LookupError) -> JSONResponse:
        return _error(404, str(error).strip("'\""))

    @app.exception_handler(admin.Conflict)
    async def conflict(request: Request, error: admin.Conflict) -> JSONResponse:
        return _error(409, str(error))

    @app.exception_handler(MessageError)
    async def bad_message(request: Request, error: MessageError) -> JSONResponse:
        return _error(422, str(error))

    @app.exception_handler(ValueError)
    async def bad_value(request: Request, error: ValueError) -> JSONResponse:
        return _error(400, str(error))

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, error: RequestValidationError) -> JSONResponse:
        details = [
            {"field": ".".join(str(p) for p in e.get("loc", ()) if p != "body") or "body", "message": e.get("msg", "")}
            for e in error.errors()
        ]
        if any(e.get("type") == "json_invalid" for e in error.errors()):
            return _error(400, "the request body is not valid JSON", details=details)
        first = details[0] if details else {"field": "body", "message": "invalid request"}
        return _error(422, f"{first['field']}: {first['message']}", details=details)

    @app.exception_handler(Exception)
    async def crashed(request: Request, error: Exception) -> JSONResponse:
        request_id = getattr(request.state, "request_id", "-")
        log.exception("request %s failed", request_id)
        return _error(500, "something went wrong on our side; the error was logged", request_id=request_id)

    # ---------------------------------------------------------------- middleware

    @app.middleware("http")
    async def guard_and_log(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        request.state.request_id = uuid.uuid4().hex[:12]
        started = time.perf_counter()
        path = request.url.path
        length = request.headers.get("content-length")
        if length and length.isdigit() and int(length) > settings.max_body_bytes:
            response: Response = _error(413, f"the request body is larger than {settings.max_body_bytes} bytes")
        else:
            try:
                if path.startswith("/api/") and request.client is not None:
                    limiter = runtime().per_ip
                    assert limiter is not None
                    limiter.hit(request.client.host)
                response = await call_next(request)
            except RateLimited as error:
                response = await rate_limited(request, error)
        elapsed = time.perf_counter() - started
        route = getattr(request.scope.get("route"), "path", "other")
        metrics.record(request.method, route, response.status_code, elapsed)
        parts = path.split("/")
        conversation = parts[3] if len(parts) > 3 and parts[2] == "conversations" else None
        log.info(
            json.dumps(
                {
                    "request_id": request.state.request_id,
                    "method": request.method,
                    "path": path,
                    "status": response.status_code,
                    "ms": round(elapsed * 1000, 1),
                    "conversation_id": conversation,
                }
            )
        )
        response.headers["X-Request-ID"] = request.state.request_id
        return response

    if settings.allowed_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.allowed_origins,
            allow_methods=["GET", "POST"],
            allow_headers=["Authorization", "Content-Type"],
            expose_headers=["Retry-After"],
            max_age=600,
        )

    # ---------------------------------------------------------------- health

    @app.get("/healthz", tags=["operations"])
    def healthz() -> dict[str, str]:
        """The process is up."""
        return {"status": "ok"}

    @app.get("/readyz", tags=["operations"])
    def readyz() -> JSONResponse:
        """The database answers."""
        try:
            with opened_store().read() as session:
                session.execute(text("SELECT 1"))
        except Exception as error:  # any database failure means not ready
            return JSONResponse({"status": "unavailable", "detail": type(error).__name__}, status_code=503)
        return JSONResponse({"status": "ready"})

    @app.get("/metrics", tags=["operations"], response_class=PlainTextResponse)
    def prometheus() -> str:
        """Request counts and latency in the Prometheus text format."""
        return metrics.render()

    @app.get("/api/tools", tags=["operations"])
    def tools() -> list[dict[str, Any]]:
        """The agent's tools as JSON schemas (OpenAI function-calling format)."""
        return tool_schemas()

    # ---------------------------------------------------------------- sign-in

    @app.post("/api/auth/login", tags=["auth"])
    def sign_in(body: Login) -> JSONResponse:
        """Sign a staff member in: a session cookie, and the CSRF token to send with changes."""
        user = login(runtime().store, body.email, body.password)
        if user is None:
            return _error(401, "wrong email or password")
        cookie, csrf = make_session(runtime().secret, user)
        response = JSONResponse({"user": {"email": user.email, "name": user.name, "role": user.role.value}, "csrf": csrf})
        response.set_cookie(SESSION_COOKIE, cookie, max_age=SESSION_SECONDS, httponly=True, samesite="strict", path="/")
        return response

    @app.post("/api/auth/logout", tags=["auth"])
    def sign_out(request: Request) -> JSONResponse:
        runtime().staff(request)
        response = JSONResponse({"ok": True})
        response.delete_cookie(SESSION_COOKIE, path="/")
        return response

    @app.get("/api/auth/me", tags=["auth"])
    def me(request: Request) -> dict[str, Any]:
        """Who is signed in, with the session's CSRF token."""
        staff = runtime().staff(request)
        return {"user": staff.public(), "csrf": staff.csrf}

    @app.get("/api/demo/customers", tags=["demo"])
    def demo_customers() -> list[dict[str, str]]:
        """Demo customers to try the widget as (order number and email verify them)."""
        from commerce.demo import demo_customers as pick

        with runtime().store.read() as session:
            return pick(session, 8)

    # ---------------------------------------------------------------- APIs

    app.include_router(customer.router(_Lazy(runtime)))  # type: ignore[arg-type]
    app.include_router(console.router(_Lazy(runtime)))  # type: ignore[arg-type]
    app.include_router(admin.router(_Lazy(runtime)))  # type: ignore[arg-type]
    app.include_router(analytics.router(_Lazy(runtime)))  # type: ignore[arg-type]
    app.include_router(tracking.router(_Lazy(runtime)))  # type: ignore[arg-type]

    # ---------------------------------------------------------------- pages

    def page(name: str) -> FileResponse:
        return FileResponse(WEB / "pages" / name, media_type="text/html")

    def signed_in(request: Request) -> bool:
        return read_session(runtime().secret, request.cookies.get(SESSION_COOKIE)) is not None

    @app.get("/", include_in_schema=False)
    def home() -> RedirectResponse:
        return RedirectResponse("/demo")

    @app.get("/demo", include_in_schema=False)
    def demo_page() -> FileResponse:
        return page("demo.html")

    @app.get("/login", include_in_schema=False)
    def login_page() -> FileResponse:
        return page("login.html")

    @app.get("/console", include_in_schema=False, response_model=None)
    def console_page(request: Request) -> FileResponse | RedirectResponse:
        return page("console.html") if signed_in(request) else RedirectResponse(f"/login?next={quote('/console')}")

    @app.get("/console/analytics", include_in_schema=False, response_model=None)
    def analytics_page(request: Request) -> FileResponse | RedirectResponse:
        return page("analytics.html") if signed_in(request) else RedirectResponse(f"/login?next={quote('/console/analytics')}")

    @app.get("/admin", include_in_schema=False, response_model=None)
    def admin_page(request: Request) -> FileResponse | RedirectResponse:
        return page("admin.html") if signed_in(request) else RedirectResponse(f"/login?next={quote('/admin')}")

    @app.get("/widget.js", include_in_schema=False)
    def widget() -> FileResponse:
        return FileResponse(WEB / "static" / "widget.js", media_type="text/javascript")

    if (WEB / "static").is_dir():
        app.mount("/static", StaticFiles(directory=WEB / "static"), name="static")

    return app


class _Lazy:
    """The runtime, built on first use: the routers read its attributes at request time."""

    def __init__(self, factory: Callable[[], Runtime]) -> None:
        self._factory = factory

    def __getattr__(self, name: str) -> Any:
        return getattr(self._factory(), name)
