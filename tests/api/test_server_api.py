"""The HTTP API on a small shop, without a browser: customer conversations and their tokens,
input errors, rate limits, CORS, staff sign-in and CSRF, the console's queue and replies, the
admin's documents and policy, and the operations endpoints."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from agent.service import MAX_MESSAGE_CHARS, SupportAgent
from api.auth import SESSION_COOKIE, add_staff, conversation_token, issue_api_token
from commerce.db import Store
from commerce.models import AuditEntry, Customer, StaffRole
from config import Settings
from server import create_app
from support.runtime import Runtime
from tests.conftest import NOW, build_shop

SECRET = "api-test-secret"
AGENT_EMAIL, AGENT_PASSWORD = "agent@shop.example", "agent-password"
ADMIN_EMAIL, ADMIN_PASSWORD = "admin@shop.example", "admin-password"
CHARGEBACK = "I will file a chargeback with my bank if you don't refund order #A1002 now! my email is alice@example.com"
DOC = "en/returns-refunds.md"


class Shop:
    """A running app on the small shop, with its store and a client per caller."""

    def __init__(self, settings: Settings) -> None:
        self.store = Store(settings.resolved_database_url)
        build_shop(self.store)
        add_staff(self.store, AGENT_EMAIL, AGENT_PASSWORD, role=StaffRole.AGENT)
        add_staff(self.store, ADMIN_EMAIL, ADMIN_PASSWORD, role=StaffRole.ADMIN)
        self.app = create_app(settings, store=self.store, clock=lambda: NOW, agent_factory=_offline_agent)
        self.clients: list[TestClient] = []

    def client(self) -> TestClient:
        client = TestClient(self.app)
        self.clients.append(client)
        return client

    def conversation(self, client: TestClient | None = None) -> tuple[str, dict[str, str]]:
        """A new conversation's id and the header that opens it."""
        response = (client or self.client()).post("/api/conversations", json={"locale": "en"})
        assert response.status_code == 201, response.text
        body = response.json()
        return body["id"], {"Authorization": f"Bearer {body['token']}"}

    def staff(self, email: str, password: str) -> tuple[TestClient, dict[str, str]]:
        """A signed-in client and the CSRF header its changes need."""
        client = self.client()
        response = client.post("/api/auth/login", json={"email": email, "password": password})
        assert response.status_code == 200, response.text
        return client, {"X-CSRF-Token": response.json()["csrf"]}

    def close(self) -> None:
        for client in self.clients:
            client.close()
        self.app.state.runtime.close()
        self.store.dispose()


def _offline_agent(runtime: Runtime) -> SupportAgent:
    # The knowledge base is not needed here; leaving it out keeps these tests fast.
    return SupportAgent(runtime.settings, store=runtime.store, clock=runtime.clock, use_knowledge=False)


@pytest.fixture
def make_shop(tmp_path: Path, cache_dir: Path) -> Iterator[Callable[..., Shop]]:
    shops: list[Shop] = []

    def make(**overrides: Any) -> Shop:
        data_dir = tmp_path / f"shop{len(shops)}"
        data_dir.mkdir()
        options: dict[str, Any] = {"secret_key": SECRET, "brain": "offline", "cache_dir": cache_dir, **overrides}
        shops.append(Shop(Settings(data_dir=data_dir, **options)))
        return shops[-1]

    yield make
    for shop in shops:
        shop.close()


@pytest.fixture
def shop(make_shop: Callable[..., Shop]) -> Shop:
    return make_shop()


def assert_json_error(response: httpx.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    body: dict[str, Any] = response.json()
    assert isinstance(body.get("error"), str) and body["error"]
    assert "Traceback" not in response.text
    return body


# ---------------------------------------------------------------- customer conversations


def test_a_conversation_token_opens_its_own_conversation_only(shop: Shop) -> None:
    client = shop.client()
    mine, mine_header = shop.conversation(client)
    _, other_header = shop.conversation(client)

    sent = client.post(f"/api/conversations/{mine}/messages", json={"text": "Where is my order #A1003?"}, headers=mine_header)
    assert sent.status_code == 200, sent.text
    turn = sent.json()
    assert turn["conversation"] == mine and turn["reply"] and turn["language"] == "en"
    assert turn["ui"]["send"] == "Send" and turn["dir"] == "ltr"

    history = client.get(f"/api/conversations/{mine}", headers=mine_header)
    assert history.status_code == 200
    roles = [m["role"] for m in history.json()["messages"]]
    assert roles == ["customer", "agent"]
    assert history.json()["messages"][0]["text"] == "Where is my order #A1003?"

    assert_json_error(client.get(f"/api/conversations/{mine}", headers=other_header), 403)
    assert_json_error(client.post(f"/api/conversations/{mine}/messages", json={"text": "hi"}, headers=other_header), 403)
    assert_json_error(client.get(f"/api/conversations/{mine}/events", params={"token": "forged"}), 403)
    assert_json_error(client.get(f"/api/conversations/{mine}"), 401)
    assert_json_error(client.post(f"/api/conversations/{mine}/messages", json={"text": "hi"}), 401)
    assert_json_error(client.get(f"/api/conversations/{mine}/events"), 401)


def test_the_page_language_answers_a_first_message_without_words(shop: Shop) -> None:
    client = shop.client()
    opened = client.post("/api/conversations", json={"locale": "fr-BE"}).json()
    header = {"Authorization": f"Bearer {opened['token']}"}
    turn = client.post(f"/api/conversations/{opened['id']}/messages", json={"text": "alice@example.com"}, headers=header)
    assert turn.status_code == 200, turn.text
    assert turn.json()["language"] == "fr" and turn.json()["ui"]["send"] != "Send"


def test_an_unknown_conversation_is_refused_with_a_json_error(shop: Shop) -> None:
    client = shop.client()
    _, header = shop.conversation(client)
    assert_json_error(client.get("/api/conversations/w-does-not-exist", headers=header), 403)
    # Even a correctly signed token finds nothing behind an id that was never opened.
    signed = {"Authorization": f"Bearer {conversation_token(SECRET, 'w-does-not-exist')}"}
    body = assert_json_error(client.get("/api/conversations/w-does-not-exist", headers=signed), 404)
    assert "w-does-not-exist" in body["error"]


def test_bad_input_gets_a_json_error_and_never_a_traceback(make_shop: Callable[..., Shop]) -> None:
    shop = make_shop(max_body_bytes=8192)
    client = shop.client()
    conversation, header = shop.conversation(client)
    url = f"/api/conversations/{conversation}/messages"

    broken = client.post(url, content=b'{"text": "hello', headers={**header, "Content-Type": "application/json"})
    assert_json_error(broken, 400)
    assert_json_error(client.post(url, json={"text": ""}, headers=header), 422)
    assert_json_error(client.post(url, json={"text": "x" * (MAX_MESSAGE_CHARS + 1)}, headers=header), 422)
    assert_json_error(client.post(url, json={"text": "hi", "admin": True}, headers=header), 422)
    assert_json_error(client.post(url, json={"text": "y" * 9000}, headers=header), 413)
    assert_json_error(client.post("/api/conversations", json={"locale": "x" * 17}), 422)
    # None of it reached the agent.
    assert client.get(f"/api/conversations/{conversation}", headers=header).json()["messages"] == []


def test_a_chunked_body_without_a_length_is_held_to_the_body_limit(make_shop: Callable[..., Shop]) -> None:
    shop = make_shop(max_body_bytes=8192)
    client = shop.client()
    conversation, header = shop.conversation(client)
    url = f"/api/conversations/{conversation}/messages"

    def chunks() -> Iterator[bytes]:
        # A body sent in pieces declares no Content-Length: only the bytes read can be counted.
        yield b'{"text": "'
        for _ in range(64):
            yield b"z" * 1024
        yield b'"}'

    sent = client.post(url, content=chunks(), headers={**header, "Content-Type": "application/json"})
    assert "content-length" not in {k.lower() for k in sent.request.headers}
    assert_json_error(sent, 413)
    for route in ("/api/conversations", "/api/auth/login"):
        assert_json_error(client.post(route, content=chunks(), headers={"Content-Type": "application/json"}), 413)
    assert client.get(f"/api/conversations/{conversation}", headers=header).json()["messages"] == []
    # A small body sent in pieces still goes through.
    small = client.post(
        url, content=iter([b'{"text": "', b"hello", b'"}']), headers={**header, "Content-Type": "application/json"}
    )
    assert small.status_code == 200


def test_demo_customers_are_listed_only_in_demo_mode_and_only_for_the_demo_shop(make_shop: Callable[..., Shop]) -> None:
    # Served by default, the route would hand anyone the names, emails and order numbers of a
    # real shop: it is not mounted unless the server runs the demo shop.
    client = make_shop().client()
    assert_json_error(client.get("/api/demo/customers"), 404)
    demo = make_shop(demo_mode=True)
    client = demo.client()
    listed = client.get("/api/demo/customers")
    assert listed.status_code == 200 and all(c["email"].endswith("@example.com") for c in listed.json())
    # In demo mode still, a store holding one real customer is not the demo shop.
    with demo.store.write() as session:
        session.add(Customer(id="real-1", first_name="Real", last_name="Person", email="someone@gmail.com"))
    body = assert_json_error(client.get("/api/demo/customers"), 404)
    assert "someone@gmail.com" not in str(body)


def test_the_third_message_in_a_minute_is_rate_limited(make_shop: Callable[..., Shop]) -> None:
    shop = make_shop(rate_limit_per_conversation=2)
    client = shop.client()
    conversation, header = shop.conversation(client)
    url = f"/api/conversations/{conversation}/messages"
    for text in ("Hello", "Where is order #A1003?"):
        assert client.post(url, json={"text": text}, headers=header).status_code == 200
    limited = client.post(url, json={"text": "Anyone there?"}, headers=header)
    body = assert_json_error(limited, 429)
    assert int(limited.headers["Retry-After"]) >= 1 and body["retry_after"] >= 1
    # Another conversation is not held back by this one.
    other, other_header = shop.conversation(client)
    assert client.post(f"/api/conversations/{other}/messages", json={"text": "Hello"}, headers=other_header).status_code == 200


def test_cors_lets_only_the_configured_seller_site_embed_the_widget(make_shop: Callable[..., Shop]) -> None:
    client = make_shop(cors_origins="https://shop.example").client()
    preflight = {"Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "authorization,content-type"}

    allowed = client.options("/api/conversations", headers={"Origin": "https://shop.example", **preflight})
    assert allowed.status_code == 200
    assert allowed.headers["access-control-allow-origin"] == "https://shop.example"
    assert "POST" in allowed.headers["access-control-allow-methods"]

    refused = client.options("/api/conversations", headers={"Origin": "https://elsewhere.example", **preflight})
    assert refused.status_code >= 400
    assert "access-control-allow-origin" not in refused.headers

    opened = client.post("/api/conversations", json={}, headers={"Origin": "https://shop.example"})
    assert opened.headers["access-control-allow-origin"] == "https://shop.example"
    assert "retry-after" in opened.headers["access-control-expose-headers"].lower()  # the widget reads it after a 429

    simple = client.post("/api/conversations", json={}, headers={"Origin": "https://elsewhere.example"})
    assert "access-control-allow-origin" not in simple.headers


# ---------------------------------------------------------------- staff


def test_staff_sign_in_csrf_roles_and_api_tokens(shop: Shop) -> None:
    anonymous = shop.client()
    assert_json_error(anonymous.post("/api/auth/login", json={"email": AGENT_EMAIL, "password": "wrong-password"}), 401)
    assert_json_error(anonymous.post("/api/auth/login", json={"email": "nobody@shop.example", "password": "x"}), 401)
    assert_json_error(anonymous.get("/api/console/cases"), 401)
    assert_json_error(anonymous.get("/api/auth/me"), 401)

    agent, csrf = shop.staff(AGENT_EMAIL, AGENT_PASSWORD)
    assert agent.get("/api/auth/me").json()["user"]["role"] == "agent"
    assert agent.get("/api/console/cases").json() == []
    # A change made with the session cookie needs the session's CSRF token.
    assert_json_error(agent.post("/api/console/cases/1/takeover"), 403)
    assert_json_error(agent.post("/api/console/cases/1/takeover", headers={"X-CSRF-Token": "guessed"}), 403)
    assert_json_error(agent.post("/api/console/cases/1/takeover", headers=csrf), 404)  # past the checks: no such case
    # An agent is not an admin.
    assert_json_error(agent.get("/api/admin/documents"), 403)
    assert_json_error(agent.get("/api/admin/policy"), 403)

    # An integration token needs no CSRF token (it is not a cookie a browser sends by itself).
    token = {"Authorization": f"Bearer {issue_api_token(shop.store, ADMIN_EMAIL)}"}
    integration = shop.client()
    assert integration.get("/api/admin/documents", headers=token).status_code == 200
    assert_json_error(integration.post("/api/console/cases/1/takeover", headers=token), 404)
    assert_json_error(integration.get("/api/console/cases", headers={"Authorization": "Bearer hw_unknown"}), 401)

    assert agent.post("/api/auth/logout", headers=csrf).status_code == 200
    assert_json_error(agent.get("/api/console/cases"), 401)


def test_a_chargeback_threat_reaches_the_console_and_a_staff_reply_reaches_the_customer(shop: Shop) -> None:
    customer = shop.client()
    calm, calm_header = shop.conversation(customer)
    asked = customer.post(f"/api/conversations/{calm}/messages", json={"text": "I want to talk to a human"}, headers=calm_header)
    assert asked.json()["status"] == "escalated"

    angry, angry_header = shop.conversation(customer)
    threat = customer.post(f"/api/conversations/{angry}/messages", json={"text": CHARGEBACK}, headers=angry_header).json()
    assert threat["status"] == "escalated" and threat["urgency"] == "red" and threat["case_id"]

    agent, csrf = shop.staff(AGENT_EMAIL, AGENT_PASSWORD)
    queue = agent.get("/api/console/cases").json()
    assert [c["sla_due_at"] for c in queue] == sorted(c["sla_due_at"] for c in queue)
    first = queue[0]
    assert first["id"] == threat["case_id"] and first["urgency"] == "red" and first["conversation_id"] == angry
    assert first["customer_name"] == "Alice Martin" and first["order_id"] == "#A1002"
    assert {c["conversation_id"] for c in queue} == {calm, angry}

    detail = agent.get(f"/api/console/cases/{first['id']}").json()
    assert detail["brief"] and detail["messages"][0] == {"role": "customer", "text": CHARGEBACK, "at": NOW.isoformat()}

    reply = "We are refunding order #A1002 in full today; no need to involve your bank."
    answered = agent.post(f"/api/console/cases/{first['id']}/reply", json={"text": reply}, headers=csrf)
    assert answered.status_code == 200, answered.text
    history = customer.get(f"/api/conversations/{angry}", headers=angry_header).json()
    assert {"role": "human", "text": reply} in [{"role": m["role"], "text": m["text"]} for m in history["messages"]]

    resolved = agent.post(f"/api/console/cases/{first['id']}/reply", json={"text": "Done.", "resolve": True}, headers=csrf)
    assert resolved.json()["status"] == "resolved"
    assert [c["conversation_id"] for c in agent.get("/api/console/cases").json()] == [calm]
    everything = agent.get("/api/console/cases", params={"status": "all"}).json()
    assert {c["id"]: c["status"] for c in everything}[first["id"]] == "resolved"


def test_an_api_token_answers_a_case_without_csrf(shop: Shop) -> None:
    customer = shop.client()
    conversation, header = shop.conversation(customer)
    case_id = customer.post(f"/api/conversations/{conversation}/messages", json={"text": CHARGEBACK}, headers=header).json()[
        "case_id"
    ]
    token = {"Authorization": f"Bearer {issue_api_token(shop.store, AGENT_EMAIL)}"}
    answered = shop.client().post(f"/api/console/cases/{case_id}/reply", json={"text": "Refunded."}, headers=token)
    assert answered.status_code == 200, answered.text
    assert answered.json()["messages"][-1]["role"] == "human"


# ---------------------------------------------------------------- admin


def _links_in(page: str) -> list[str]:
    """The href and src values of the HTML, as a browser reads them."""
    from html.parser import HTMLParser

    found: list[str] = []

    class Links(HTMLParser):
        def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
            found.extend(value or "" for name, value in attrs if name in ("href", "src"))

    Links().feed(page)
    return found


def test_the_markdown_preview_renders_no_link_that_runs_script(shop: Shop) -> None:
    admin, csrf = shop.staff(ADMIN_EMAIL, ADMIN_PASSWORD)
    attacks = [
        "[click](javascript:alert(document.cookie))",
        "[click](JaVaScRiPt:alert(1))",
        "[click]( java\tscript:alert(1))",
        "![pixel](data:text/html;base64,PHNjcmlwdD4=)",
        "[click](vbscript:msgbox(1))",
        "[click](//evil.example/phish)",
        '<a href="javascript:alert(1)">raw</a>',
    ]
    for text in attacks:
        rendered = admin.post("/api/admin/preview", json={"text": text}, headers=csrf).json()["html"]
        links = _links_in(rendered)
        assert all(link == "#" for link in links), (text, links)
    kept = admin.post(
        "/api/admin/preview",
        json={"text": "[a](https://shop.example/returns) [b](mailto:help@shop.example) [c](#top)"},
        headers=csrf,
    ).json()["html"]
    assert all(h in kept for h in ('href="https://shop.example/returns"', 'href="mailto:help@shop.example"', 'href="#top"'))


def test_admin_edits_a_document_with_versions_diff_conflict_and_rollback(shop: Shop) -> None:
    admin, csrf = shop.staff(ADMIN_EMAIL, ADMIN_PASSWORD)
    listed = {d["path"]: d for d in admin.get("/api/admin/documents").json()}
    assert listed[DOC]["version"] == 1 and listed[DOC]["language"] == "en"

    original = admin.get(f"/api/admin/documents/{DOC}").json()
    assert original["version"] == 1 and "30 days" in original["text"]
    edited_text = original["text"].replace("30 days", "45 days")

    saved = admin.put(f"/api/admin/documents/{DOC}", json={"text": edited_text, "base_version": 1}, headers=csrf)
    assert saved.status_code == 200, saved.text
    assert saved.json()["version"] == 2
    current = admin.get(f"/api/admin/documents/{DOC}").json()
    assert current["version"] == 2 and current["text"] == edited_text
    assert [v["version"] for v in current["versions"]] == [1, 2]

    stale = admin.put(f"/api/admin/documents/{DOC}", json={"text": "lost edit", "base_version": 1}, headers=csrf)
    assert "version 2" in assert_json_error(stale, 409)["error"]

    diff = admin.get(f"/api/admin/documents/{DOC}/diff", params={"to": 2}).json()
    assert diff["from"] == 1 and diff["to"] == 2
    changed = [line for line in diff["diff"].splitlines() if line[:1] in "+-" and line[:3] not in ("+++", "---")]
    assert any(line.startswith("-") and "30 days" in line for line in changed)
    assert any(line.startswith("+") and "45 days" in line for line in changed)

    rolled = admin.post(f"/api/admin/documents/{DOC}/rollback", json={"version": 1}, headers=csrf)
    assert rolled.status_code == 200, rolled.text
    assert rolled.json()["version"] == 3
    after = admin.get(f"/api/admin/documents/{DOC}").json()
    assert after["version"] == 3 and after["text"] == original["text"]

    assert_json_error(admin.get("/api/admin/documents/en/no-such-doc.md"), 404)
    assert_json_error(admin.get("/api/admin/documents/en/Secrets.MD"), 404)
    assert_json_error(admin.post(f"/api/admin/documents/{DOC}/rollback", json={"version": 9}, headers=csrf), 404)


def test_admin_policy_edits_are_validated_with_the_line_of_each_problem(shop: Shop) -> None:
    admin, csrf = shop.staff(ADMIN_EMAIL, ADMIN_PASSWORD)
    policy = admin.get("/api/admin/policy").json()
    assert policy["name"] == "default" and "issue_refund:" in policy["yaml"]

    marker = "    vip_multiplier: 2.0\n"
    assert marker in policy["yaml"]
    unknown = policy["yaml"].replace(marker, marker + "    refund_everything: true\n", 1)
    refused = admin.put("/api/admin/policy", json={"yaml": unknown}, headers=csrf)
    body = assert_json_error(refused, 422)
    problem = body["errors"][0]
    assert problem["path"] == "actions.issue_refund.refund_everything"
    assert unknown.splitlines()[problem["line"] - 1].strip() == "refund_everything: true"

    not_yaml = admin.put("/api/admin/policy", json={"yaml": "actions: [\n"}, headers=csrf)
    assert assert_json_error(not_yaml, 422)["errors"][0]["line"] == 2

    assert admin.put("/api/admin/policy", json={"yaml": policy["yaml"]}, headers=csrf).json() == {"ok": True, "name": "default"}
    assert_json_error(admin.put("/api/admin/policy", json={"yaml": policy["yaml"]}), 403)  # no CSRF token


def test_an_unknown_route_or_method_gets_a_json_error(shop: Shop) -> None:
    client = shop.client()
    assert_json_error(client.get("/api/no-such-route"), 404)
    assert_json_error(client.delete("/api/conversations"), 405)


# ---------------------------------------------------------------- operations


def test_health_readiness_docs_and_metrics(shop: Shop) -> None:
    client = shop.client()
    assert client.get("/healthz").json() == {"status": "ok"}
    assert client.get("/readyz").json() == {"status": "ready"}
    assert client.get("/docs").status_code == 200
    assert client.get("/openapi.json").json()["info"]["title"] == "Helloword"
    client.get("/healthz")
    client.get("/api/console/cases")
    metrics = client.get("/metrics")
    assert metrics.status_code == 200 and metrics.headers["content-type"].startswith("text/plain")
    assert 'helloword_http_requests_total{method="GET",route="/healthz",status="200"} 2' in metrics.text
    assert 'helloword_http_requests_total{method="GET",route="/api/console/cases",status="401"} 1' in metrics.text
    assert "helloword_http_latency_seconds" in metrics.text
    assert client.get("/healthz").headers["X-Request-ID"]


def test_guessing_identity_over_http_is_locked_and_counted_in_metrics(shop: Shop) -> None:
    # Attack: 29 wrong emails, then the right one, verified; each guess now counts per target.
    client = shop.client()
    for number in range(5):
        conversation, header = shop.conversation(client)
        text = f"order #A1003, my email is wrong{number}@example.com"
        assert client.post(f"/api/conversations/{conversation}/messages", json={"text": text}, headers=header).status_code == 200
    conversation, header = shop.conversation(client)
    turn = client.post(
        f"/api/conversations/{conversation}/messages", json={"text": "order #A1003, email alice@example.com"}, headers=header
    ).json()
    assert "JD1003" not in turn["reply"]
    assert "helloword_identity_lockouts_total 1" in client.get("/metrics").text


def test_staff_inputs_that_broke_the_server_get_a_4xx(shop: Shop) -> None:
    # Attack: a case id beyond 64 bits, a report from year 1 to 9999 and a policy nested 3,000
    # deep each gave a 500.
    admin, csrf = shop.staff(ADMIN_EMAIL, ADMIN_PASSWORD)
    assert_json_error(admin.get(f"/api/console/cases/{2**70}"), 422)
    assert_json_error(admin.get("/api/analytics/report", params={"from": "0001-01-01", "to": "9999-12-31"}), 400)
    nested = "a: " + "[" * 3000 + "]" * 3000
    answer = admin.put("/api/admin/policy", json={"yaml": nested}, headers=csrf)
    assert 400 <= answer.status_code < 500 and "Traceback" not in answer.text
    # The connection still answers.
    assert admin.get("/api/console/cases").status_code == 200


def test_a_defect_still_gets_its_log_line_count_and_request_id(shop: Shop) -> None:
    def broken() -> None:
        raise RuntimeError("a defect")

    shop.app.add_api_route("/api/broken", broken)
    client = shop.client()
    failed = client.get("/api/broken")
    body = assert_json_error(failed, 500)
    assert failed.headers["X-Request-ID"] in body["error"]
    assert 'route="/api/broken",status="500"} 1' in client.get("/metrics").text
    assert client.get("/healthz").status_code == 200


def test_the_server_stops_at_once_with_an_event_stream_open(make_shop: Callable[..., Shop]) -> None:
    # Attack: after SIGTERM with one live event stream the server sent keep-alives for 60 s.
    import signal
    import socket
    import threading
    import time

    import uvicorn

    from server import StreamClosingServer

    shop = make_shop()
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(shop.app, host="127.0.0.1", port=port, log_level="warning", timeout_graceful_shutdown=30)
    server = StreamClosingServer(config, shop.app.state.runtime.bus)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.05)
    base = f"http://127.0.0.1:{port}"
    opened = httpx.post(f"{base}/api/conversations", json={"locale": "en"}).json()
    lines: list[str] = []

    def listen() -> None:
        url = f"{base}/api/conversations/{opened['id']}/events"
        with httpx.stream("GET", url, params={"token": opened["token"]}, timeout=40) as stream:
            lines.extend(stream.iter_lines())

    listener = threading.Thread(target=listen, daemon=True)
    listener.start()
    deadline = time.monotonic() + 10
    while not shop.app.state.runtime.bus.subscribers(opened["id"]) and time.monotonic() < deadline:
        time.sleep(0.05)
    stopping = time.monotonic()
    server.handle_exit(signal.SIGTERM, None)
    thread.join(timeout=20)
    listener.join(timeout=5)
    sock.close()
    assert not thread.is_alive() and time.monotonic() - stopping < 5
    assert "event: closing" in lines


def test_a_signed_out_session_cookie_opens_nothing(shop: Shop) -> None:
    # Attack: the session cookie still worked after logout (12 h lifetime).
    client, csrf = shop.staff(AGENT_EMAIL, AGENT_PASSWORD)
    cookie = client.cookies.get(SESSION_COOKIE)
    assert client.post("/api/auth/logout", headers=csrf).status_code == 200
    replay = shop.client()
    replay.cookies.set(SESSION_COOKIE, cookie)
    assert_json_error(replay.get("/api/console/cases"), 401)


def test_a_new_password_signs_every_session_out(shop: Shop) -> None:
    client, _ = shop.staff(AGENT_EMAIL, AGENT_PASSWORD)
    assert client.get("/api/console/cases").status_code == 200
    add_staff(shop.store, AGENT_EMAIL, "a-new-password", role=StaffRole.AGENT)
    assert_json_error(client.get("/api/console/cases"), 401)


def test_wrong_passwords_lock_the_account_and_every_sign_in_is_audited(shop: Shop) -> None:
    # Attack: 170 wrong passwords for one account were checked and the right one still accepted.
    client = shop.client()
    for n in range(5):
        assert_json_error(client.post("/api/auth/login", json={"email": AGENT_EMAIL, "password": f"guess-{n}"}), 401)
    assert_json_error(client.post("/api/auth/login", json={"email": AGENT_EMAIL, "password": AGENT_PASSWORD}), 429)
    # Another account is not locked by them.
    assert client.post("/api/auth/login", json={"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD}).status_code == 200
    with shop.store.read() as s:
        audited = [(e.arguments["email"], e.ok) for e in s.scalars(select(AuditEntry).where(AuditEntry.tool == "staff_login"))]
    assert audited.count((AGENT_EMAIL, False)) == 6 and (ADMIN_EMAIL, True) in audited


def test_the_session_cookie_is_secure_when_the_public_url_is_https(make_shop: Callable[..., Shop]) -> None:
    for options, secure in (
        ({"public_url": "https://support.shop.example"}, True),
        ({}, False),
        ({"secure_cookies": True}, True),
    ):
        shop = make_shop(**options)
        answer = shop.client().post("/api/auth/login", json={"email": AGENT_EMAIL, "password": AGENT_PASSWORD})
        assert ("secure" in answer.headers["set-cookie"].lower()) is secure


def test_long_messages_from_one_address_have_a_budget_short_ones_do_not(make_shop: Callable[..., Shop]) -> None:
    # Attack: four 4,000-character messages from one address halved everyone's throughput.
    shop = make_shop(rate_limit_long_messages=2, rate_limit_per_conversation=100)
    client = shop.client()
    conversation, header = shop.conversation(client)
    url = f"/api/conversations/{conversation}/messages"
    long = "my parcel has not arrived yet, " * 120
    assert client.post(url, json={"text": long[:3900]}, headers=header).status_code == 200
    assert client.post(url, json={"text": long[:3800]}, headers=header).status_code == 200
    refused = client.post(url, json={"text": long[:3700]}, headers=header)
    assert_json_error(refused, 429)
    assert refused.headers.get("retry-after")
    assert client.post(url, json={"text": "where is my order #A1003?"}, headers=header).status_code == 200
