"""What customers, agents and admins do in the browser, end to end on the demo shop: a Spanish
customer's late parcel and the coupon that makes up for it, a chargeback threat that reaches
the console and a human reply that reaches the widget live, an admin's edit to the returns
policy that the agent quotes at once (and the rollback), and the pages that need a sign-in."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.sync_api import BrowserContext, Page, expect
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from commerce.db import Store
from commerce.demo import REFERENCE_NOW
from commerce.models import Coupon, Order, OrderStatus, ShipmentStatus
from tests.web.conftest import (
    ADMIN_EMAIL,
    ADMIN_PASSWORD,
    AGENT_EMAIL,
    AGENT_PASSWORD,
    REPLY_TIMEOUT_MS,
    LiveServer,
)

pytestmark = pytest.mark.slow

NewContext = Callable[..., BrowserContext]
Shot = Callable[[Page, str], Path]

AGENT_REPLIES = ".hw-msg.hw-agent:not(.hw-typing)"


@dataclass(frozen=True)
class DemoCustomer:
    customer_id: str
    name: str
    email: str
    language: str
    order_id: str
    tracking_number: str | None


def coupons_of(store: Store, customer_id: str) -> int:
    with store.read() as session:
        return int(session.scalar(select(func.count()).select_from(Coupon).where(Coupon.customer_id == customer_id)) or 0)


def late_parcel_customer(store: Store) -> DemoCustomer:
    """A customer whose order's last parcel is still travelling past its promised date, Spanish-speaking if any is."""
    today = REFERENCE_NOW.date()
    with store.read() as session:
        orders = session.scalars(
            select(Order).options(selectinload(Order.shipments), selectinload(Order.customer)).order_by(Order.id)
        ).all()
        with_coupons = set(session.scalars(select(Coupon.customer_id)).all())
        late = []
        for order in orders:
            parcel = order.shipments[-1] if order.shipments else None
            if (
                parcel is not None
                and parcel.status == ShipmentStatus.IN_TRANSIT
                and parcel.promised_delivery_date is not None
                and parcel.promised_delivery_date < today
                and order.customer_id not in with_coupons
            ):
                customer = order.customer
                late.append(
                    DemoCustomer(
                        customer.id,
                        f"{customer.first_name} {customer.last_name}",
                        customer.email,
                        customer.preferred_language,
                        order.id,
                        parcel.tracking_number,
                    )
                )
    assert late, "the demo data has no late parcel in transit"
    return next((c for c in late if c.language == "es"), late[0])


def delivered_order_customer(store: Store) -> DemoCustomer:
    """An English-speaking customer with a delivered order (something to ask a refund for)."""
    with store.read() as session:
        orders = session.scalars(
            select(Order)
            .options(selectinload(Order.customer))
            .where(Order.status == OrderStatus.DELIVERED)
            .order_by(Order.placed_at.desc(), Order.id)
        ).all()
        found = [
            DemoCustomer(
                o.customer.id,
                f"{o.customer.first_name} {o.customer.last_name}",
                o.customer.email,
                o.customer.preferred_language,
                o.id,
                None,
            )
            for o in orders
        ]
    assert found, "the demo data has no delivered order"
    return next((c for c in found if c.language == "en"), found[0])


# ---------------------------------------------------------------- page helpers


def open_widget(page: Page) -> None:
    page.goto("/demo")
    page.locator("#helloword-launcher").click()
    expect(page.locator("#helloword-panel")).to_be_visible()
    expect(page.locator("#helloword-input")).to_be_visible()


def say(page: Page, text: str) -> str:
    """Sends a message in the widget and returns the agent's answer once it is complete."""
    before = page.locator(AGENT_REPLIES).count()
    box = page.locator("#helloword-input")
    box.fill(text)
    box.press("Enter")
    return agent_answer(page, before)


def agent_answer(page: Page, before: int) -> str:
    replies = page.locator(AGENT_REPLIES)
    expect(replies).to_have_count(before + 1, timeout=REPLY_TIMEOUT_MS)
    expect(page.locator(".hw-msg.hw-typing")).to_have_count(0, timeout=REPLY_TIMEOUT_MS)
    expect(page.locator("#helloword-widget")).not_to_have_class(re.compile(r"\bhw-busy\b"))
    return replies.last.inner_text()


def login_redirect(target: str) -> re.Pattern[str]:
    """The sign-in page's address that leads back to `target` once signed in."""
    return re.compile(r"/login\?next=(?:/|%2F)" + re.escape(target.lstrip("/")) + "$")


def sign_in(page: Page, target: str, email: str, password: str) -> None:
    """Opens a staff page, which sends an anonymous visitor to the sign-in form and back."""
    page.goto(target)
    expect(page).to_have_url(login_redirect(target))
    page.locator("#email").fill(email)
    page.locator("#password").fill(password)
    page.locator("#login-submit").click()
    expect(page).to_have_url(re.compile(re.escape(target) + "$"))


# ---------------------------------------------------------------- journeys


def test_a_spanish_customer_with_a_late_parcel_gets_the_tracking_and_a_coupon(
    live_server: LiveServer, new_context: NewContext, shot: Shot
) -> None:
    customer = late_parcel_customer(live_server.store)
    assert customer.tracking_number
    page = new_context(locale="es-ES").new_page()
    open_widget(page)
    shot(page, "1-widget-open")

    ask = say(page, "Hola, mi paquete no ha llegado todavía y ya pasó la fecha de entrega.")
    assert re.search(r"pedido|correo", ask, re.IGNORECASE), ask  # it asks who the customer is, in Spanish
    assert customer.tracking_number not in ask
    shot(page, "2-identity-asked")

    answer = say(page, f"Pedido {customer.order_id}, mi correo es {customer.email}")
    assert customer.tracking_number in answer, answer
    assert re.search(r"cupón|paquete|seguimiento", answer, re.IGNORECASE), answer
    yes = page.locator(".hw-yes")
    expect(yes).to_be_visible()
    expect(page.locator(".hw-no")).to_be_visible()
    assert coupons_of(live_server.store, customer.customer_id) == 0  # nothing is issued before the customer agrees
    shot(page, "3-tracking-and-coupon-offer")

    before = page.locator(AGENT_REPLIES).count()
    yes.click()
    granted = agent_answer(page, before)
    match = re.search(r"\bHW-[A-Z0-9]+\b", granted)
    assert match, granted
    expect(page.locator(".hw-yes")).to_have_count(0)
    shot(page, "4-coupon-issued")

    assert coupons_of(live_server.store, customer.customer_id) == 1
    with live_server.store.read() as session:
        coupon = session.get(Coupon, match.group(0))
        assert coupon is not None and coupon.customer_id == customer.customer_id and coupon.order_id == customer.order_id


def test_a_chargeback_threat_reaches_the_console_and_the_agents_reply_reaches_the_widget_live(
    live_server: LiveServer, new_context: NewContext, shot: Shot
) -> None:
    customer = delivered_order_customer(live_server.store)
    shopper = new_context().new_page()
    open_widget(shopper)
    threat = (
        f"I will file a chargeback with my bank if you don't refund order {customer.order_id} now! my email is {customer.email}"
    )
    answer = say(shopper, threat)
    assert re.search(r"colleague|case", answer, re.IGNORECASE), answer
    shot(shopper, "1-customer-escalated")
    shopper.evaluate("window.hellowordTestMark = 'not reloaded'")

    console = new_context().new_page()
    sign_in(console, "/console", AGENT_EMAIL, AGENT_PASSWORD)
    row = console.locator(".case-row").filter(has=console.locator(".urgency-red")).filter(has_text=customer.name)
    expect(row).to_have_count(1)
    expect(console.locator(".case-row").first).to_contain_text(customer.name)  # the soonest SLA deadline comes first
    shot(console, "2-console-queue")

    row.locator("button.case-open").click()
    brief = console.locator("#brief")
    expect(brief).to_contain_text("chargeback with my bank")
    expect(console.locator("#case-view")).to_contain_text(customer.order_id)
    shot(console, "3-case-brief")

    reply = "We are sorry. Your refund for this order is on its way today, so there is no need to involve your bank."
    console.locator("#reply-text").fill(reply)
    console.locator("#reply-send").click()
    expect(console.locator("#reply-ok")).to_contain_text("Reply sent")
    shot(console, "4-reply-sent")

    # The widget was not reloaded: the reply arrives over the conversation's event stream.
    human = shopper.locator(".hw-msg.hw-human")
    expect(human).to_have_count(1, timeout=REPLY_TIMEOUT_MS)
    expect(human).to_contain_text(reply)
    assert shopper.evaluate("window.hellowordTestMark") == "not reloaded"
    shot(shopper, "5-customer-sees-the-reply")


def test_an_admin_edit_to_the_returns_policy_is_quoted_at_once_and_can_be_rolled_back(
    live_server: LiveServer, new_context: NewContext, shot: Shot
) -> None:
    question = "How many days do I have to return an item?"
    admin = new_context().new_page()
    sign_in(admin, "/admin", ADMIN_EMAIL, ADMIN_PASSWORD)
    admin.locator('.doc[data-path="en/returns-refunds.md"] button').click()
    editor = admin.locator("#doc-text")
    expect(editor).to_have_value(re.compile("30 days"))
    expect(admin.locator("#doc-version")).to_have_text("Version 1")
    shot(admin, "1-document-open")

    editor.fill(editor.input_value().replace("30 days", "45 days"))
    admin.locator("#doc-save").click()
    expect(admin.locator("#doc-status")).to_contain_text("Saved as version 2", timeout=REPLY_TIMEOUT_MS)
    shot(admin, "2-document-saved")

    customer = new_context().new_page()
    open_widget(customer)
    answer = say(customer, question)
    assert "45 days" in answer and "30 days" not in answer, answer
    shot(customer, "3-agent-quotes-45-days")

    restore = admin.locator('.restore[data-version="1"]')
    expect(restore).to_be_visible()
    restore.click()
    expect(admin.locator("#doc-status")).to_contain_text("Restored version 1 as version 3", timeout=REPLY_TIMEOUT_MS)
    expect(editor).to_have_value(re.compile("30 days"))
    shot(admin, "4-version-1-restored")

    again = new_context().new_page()  # a new conversation
    open_widget(again)
    answer = say(again, question)
    assert "30 days" in answer and "45 days" not in answer, answer
    shot(again, "5-agent-quotes-30-days-again")


def test_staff_pages_need_a_sign_in_and_a_conversation_token_opens_one_conversation(
    live_server: LiveServer, new_context: NewContext, shot: Shot
) -> None:
    context = new_context()
    page = context.new_page()
    for target in ("/console", "/admin"):
        page.goto(target)
        expect(page).to_have_url(login_redirect(target))
        expect(page.locator("#login-form")).to_be_visible()
        shot(page, f"redirected-from-{target.strip('/')}")

    api = context.request
    first = api.post("/api/conversations", data={"locale": "en"}).json()
    second = api.post("/api/conversations", data={"locale": "en"}).json()
    own = api.get(f"/api/conversations/{first['id']}", headers={"Authorization": f"Bearer {first['token']}"})
    assert own.status == 200
    other = api.get(f"/api/conversations/{first['id']}", headers={"Authorization": f"Bearer {second['token']}"})
    assert other.status == 403 and "error" in other.json()
    anonymous = api.get(f"/api/conversations/{first['id']}")
    assert anonymous.status == 401 and "error" in anonymous.json()
    assert api.get("/api/console/cases").status == 401


def test_the_analytics_dashboard_shows_the_conversations_and_the_monitors_flags(
    live_server: LiveServer, new_context: NewContext, shot: Shot
) -> None:
    live_server.app.state.runtime.monitor_once()  # the exception monitor's first scan of the demo shop
    page = new_context().new_page()
    sign_in(page, "/console/analytics", "agent@demo.helloword", "demo-agent")
    page.locator("#range-from").fill("2026-11-01")
    page.locator("#range-to").fill("2026-11-30")
    page.locator("#range-form").evaluate("form => form.requestSubmit()")
    expect(page.locator("#range-label")).not_to_contain_text("Loading")
    expect(page.locator("#kpi-csat")).to_be_visible()
    expect(page.locator("#chart-volume_by_day")).to_have_attribute("src", re.compile(r"/api/analytics/chart/volume_by_day\.svg"))
    expect(page.locator("#flags-table tbody tr").first).to_be_visible()
    # The charts are SVG images the server renders: wait until the browser has drawn them.
    page.wait_for_function(
        "() => [...document.querySelectorAll('img[data-chart]')].every(img => img.complete && img.naturalWidth > 0)",
        timeout=30_000,
    )
    shot(page, "dashboard")
