"""A real Helloword server on the demo shop, and a headless Chromium to use it the way a
customer, an agent and an admin do. Every step worth seeing is saved as a screenshot under
test-output/screenshots/."""

from __future__ import annotations

import importlib.util
import re
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from api.auth import add_staff
from commerce.db import Store
from commerce.demo import REFERENCE_NOW, generate_demo_data
from commerce.models import StaffRole
from config import Settings

if TYPE_CHECKING:
    from fastapi import FastAPI
    from playwright.sync_api import Browser, BrowserContext, Page, Playwright

CHROMIUM = Path("/usr/bin/chromium")
ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "test-output" / "screenshots"

AGENT_EMAIL, AGENT_PASSWORD = "agent@demo.helloword", "demo-agent"
ADMIN_EMAIL, ADMIN_PASSWORD = "admin@demo.helloword", "demo-admin"

if importlib.util.find_spec("playwright") is None:
    # Without the dev extra the journeys cannot even be imported; there is nothing to run.
    collect_ignore_glob = ["test_*.py"]

# The agent answers in well under a second; the first turns of a cold process take longer.
REPLY_TIMEOUT_MS = 60_000


@dataclass
class LiveServer:
    """The running server, its address and the store behind it."""

    url: str
    store: Store
    app: FastAPI


@pytest.fixture(scope="session", autouse=True)
def _needs_chromium() -> None:
    if not CHROMIUM.exists():
        pytest.skip(f"browser tests need Debian's Chromium at {CHROMIUM} (apt-get install chromium; CI installs it)")


@pytest.fixture(scope="session")
def live_server(tmp_path_factory: pytest.TempPathFactory, cache_dir: Path) -> Iterator[LiveServer]:
    """The demo shop served on 127.0.0.1, with an agent and an admin account, its clock at the
    moment the demo data is built around (so delays and SLA deadlines are what the data says)."""
    import uvicorn

    from server import create_app

    data_dir = tmp_path_factory.mktemp("browser-data")
    settings = Settings(
        data_dir=data_dir,
        database_url=f"sqlite:///{data_dir / 'helloword.db'}",
        cache_dir=cache_dir,
        chroma_url=None,
        policy_profile="default",
        brain="offline",
        secret_key="browser-tests",
        rate_limit_per_ip=100_000,
        rate_limit_per_conversation=1_000,
        demo_mode=True,
    )
    store = Store(settings.resolved_database_url)
    generate_demo_data(store)
    add_staff(store, AGENT_EMAIL, AGENT_PASSWORD, role=StaffRole.AGENT, name="Demo Agent")
    add_staff(store, ADMIN_EMAIL, ADMIN_PASSWORD, role=StaffRole.ADMIN, name="Demo Admin")
    app = create_app(settings, store=store, clock=lambda: REFERENCE_NOW)
    app.state.runtime.support_agent()  # loads the language models and the knowledge base before the first page

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", timeout_graceful_shutdown=2)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, name="live-server", daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the test server did not start")
        time.sleep(0.05)
    try:
        yield LiveServer(url=f"http://127.0.0.1:{port}", store=store, app=app)
    finally:
        server.should_exit = True
        thread.join(timeout=15)
        sock.close()
        store.dispose()


@pytest.fixture(scope="session")
def playwright_driver() -> Iterator[Playwright]:
    from playwright.sync_api import sync_playwright

    driver = sync_playwright().start()
    try:
        yield driver
    finally:
        driver.stop()


@pytest.fixture(scope="session")
def browser(playwright_driver: Playwright) -> Iterator[Browser]:
    chromium = playwright_driver.chromium.launch(
        executable_path=str(CHROMIUM),
        headless=True,
        args=["--no-sandbox", "--disable-background-networking", "--disable-dev-shm-usage"],
    )
    try:
        yield chromium
    finally:
        chromium.close()


@pytest.fixture
def new_context(browser: Browser, live_server: LiveServer) -> Iterator[Callable[..., BrowserContext]]:
    """Opens a fresh browser profile (its own cookies and stored conversation) on the live server."""
    opened: list[BrowserContext] = []

    def open_context(**options: Any) -> BrowserContext:
        context = browser.new_context(
            base_url=live_server.url, viewport={"width": 1280, "height": 860}, **{"locale": "en-US", **options}
        )
        context.set_default_timeout(15_000)
        opened.append(context)
        return context

    yield open_context
    for context in opened:
        context.close()


@pytest.fixture
def shot(request: pytest.FixtureRequest) -> Callable[[Page, str], Path]:
    """Saves a page's screenshot as test-output/screenshots/<test name>-<step>.png."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    test_name = re.sub(r"[^A-Za-z0-9_.-]+", "-", request.node.name)

    def take(page: Page, step: str) -> Path:
        path = SCREENSHOTS / f"{test_name}-{step}.png"
        page.evaluate("window.scrollTo(0, 0)")  # a sticky header would otherwise sit mid-page in the full-page image
        page.screenshot(path=str(path), full_page=True)
        return path

    return take
