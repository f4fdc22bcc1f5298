"""The pages: the demo shop with the chat widget (and the demo customers to try it as), the
sign-in page, and the console and admin pages, which send a visitor who is not signed in to
sign in first."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, RedirectResponse

from api.auth import SESSION_COOKIE, read_session
from api.deps import RuntimeDep
from commerce import demo

WEB = Path(__file__).resolve().parents[1] / "web"

router = APIRouter()
# Mounted only when the server runs the demo shop (`helloword serve --demo`).
demo_router = APIRouter()


def _page(name: str) -> FileResponse:
    return FileResponse(WEB / "pages" / name, media_type="text/html")


def _staff_page(name: str, path: str, request: Request, runtime: RuntimeDep) -> FileResponse | RedirectResponse:
    if read_session(runtime.store, request.cookies.get(SESSION_COOKIE), now=runtime.clock()) is None:
        return RedirectResponse(f"/login?next={quote(path)}")
    return _page(name)


@demo_router.get("/api/demo/customers", tags=["demo"])
def demo_customers(runtime: RuntimeDep) -> list[dict[str, str]]:
    """Demo customers to try the widget as (order number and email verify them); only for a store
    that holds the demo shop, whose customers all have addresses at the example domains."""
    with runtime.store.read() as session:
        if not demo.is_demo_shop(session):
            raise LookupError("no demo customers: the store holds a real shop's customers")
        return demo.demo_customers(session, 8)


@router.get("/", include_in_schema=False)
def home() -> RedirectResponse:
    return RedirectResponse("/demo")


@router.get("/demo", include_in_schema=False)
def demo_page() -> FileResponse:
    return _page("demo.html")


@router.get("/login", include_in_schema=False)
def login_page() -> FileResponse:
    return _page("login.html")


@router.get("/console", include_in_schema=False, response_model=None)
def console_page(request: Request, runtime: RuntimeDep) -> FileResponse | RedirectResponse:
    return _staff_page("console.html", "/console", request, runtime)


@router.get("/console/analytics", include_in_schema=False, response_model=None)
def analytics_page(request: Request, runtime: RuntimeDep) -> FileResponse | RedirectResponse:
    return _staff_page("analytics.html", "/console/analytics", request, runtime)


@router.get("/admin", include_in_schema=False, response_model=None)
def admin_page(request: Request, runtime: RuntimeDep) -> FileResponse | RedirectResponse:
    return _staff_page("admin.html", "/admin", request, runtime)


@router.get("/widget.js", include_in_schema=False)
def widget() -> FileResponse:
    return FileResponse(WEB / "static" / "widget.js", media_type="text/javascript")
