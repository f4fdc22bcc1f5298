"""The simulated-customer evaluation: pass^k and output matching by hand-computed values, and
the whole run through the CLI against a scripted model on 127.0.0.1 that plays both the
customer (from the task's scripted lines) and the agent's model (the task's write as a tool
call)."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from evals.simulate import STOP, customer_system_prompt, outputs_found, pass_hat_k

# ---------------------------------------------------------------- pass^k


def test_pass_hat_k_one_success_in_two_trials() -> None:
    assert pass_hat_k([(1, 2)], 1) == 0.5
    assert pass_hat_k([(1, 2)], 2) == 0.0


def test_pass_hat_k_averages_over_tasks() -> None:
    tasks = [(4, 4), (2, 4), (0, 4)]
    # pass^1: (1 + 2/4 + 0) / 3; pass^2: (1 + C(2,2)/C(4,2) + 0) / 3 = (1 + 1/6) / 3
    assert pass_hat_k(tasks, 1) == pytest.approx(0.5)
    assert pass_hat_k(tasks, 2) == pytest.approx(7 / 18)
    assert pass_hat_k(tasks, 3) == pytest.approx(1 / 3)
    assert pass_hat_k([(3, 5)], 2) == pytest.approx(3 / 10)  # C(3,2)/C(5,2)


def test_pass_hat_k_edges() -> None:
    assert pass_hat_k([], 1) == 0.0
    assert pass_hat_k([(2, 2), (2, 2)], 2) == 1.0
    with pytest.raises(ValueError):
        pass_hat_k([(1, 2)], 3)
    with pytest.raises(ValueError):
        pass_hat_k([(1, 2)], 0)
    with pytest.raises(ValueError):
        pass_hat_k([(3, 2)], 1)


def test_outputs_found_ignores_case_and_commas() -> None:
    replies = ["Your refund of $1,093.34 is on its way.", "The total is 12 items."]
    assert outputs_found(["1093.34"], replies)
    assert outputs_found(["$1,093.34", "12 ITEMS"], replies)
    assert outputs_found([], replies)
    assert not outputs_found(["1093.34", "99.99"], replies)
    assert not outputs_found(["refund of $1093.34 the total"], replies)  # one reply must hold it whole


def test_customer_prompt_names_the_language_and_the_stop_word() -> None:
    prompt = customer_system_prompt("You want to cancel order #W1.", "es")
    assert "Spanish" in prompt and STOP in prompt and "#W1" in prompt


# ---------------------------------------------------------------- end to end through the CLI

CUSTOMER_MODEL, AGENT_MODEL = "sim-customer", "sim-agent"


@pytest.fixture(scope="module")
def tau() -> dict[str, Any]:
    from tests.conftest import tau_retail_dir

    root = tau_retail_dir()
    from evals.tau_chat import conversational_writes

    tasks = json.loads((root / "tasks_dev.json").read_text())
    chosen = [
        i
        for i, t in enumerate(tasks)
        if (w := conversational_writes(t)) and w[0]["name"] in ("cancel_pending_order", "modify_pending_order_address")
    ][:2]
    assert len(chosen) == 2
    return {
        "root": root,
        "tasks": tasks,
        "chosen": chosen,
        "users": json.loads((root / "data" / "users.json").read_text()),
        "orders": json.loads((root / "data" / "orders.json").read_text()),
    }


def scripted_responder(tau: dict[str, Any], *, text_only: frozenset[int] = frozenset()) -> Callable[[dict[str, Any]], Any]:
    """One responder for both sides: "sim-customer" says the task's scripted lines, then stops;
    "sim-agent" answers every call with the task's write as Helloword's tool call (or, for the
    tasks in `text_only`, with words only)."""
    from evals.scripted_model import Reply, system_text
    from evals.tau_chat import conversational_writes, customer_messages
    from evals.tau_retail import _translate

    tasks = tau["tasks"]
    lines = {i: customer_messages(tasks[i], tau["users"], tau["orders"]) for i in tau["chosen"]}
    writes = {}
    for i in tau["chosen"]:
        action = (conversational_writes(tasks[i]) or [])[0]
        writes[i] = _translate(action["name"], action["arguments"])

    def respond(request: dict[str, Any]) -> Reply | str:
        messages = request.get("messages") or []
        if request.get("model") == CUSTOMER_MODEL:
            system = system_text(request)
            index = next(i for i in tau["chosen"] if tasks[i]["instruction"][:80] in system)
            said = sum(1 for m in messages if m.get("role") == "assistant")
            return lines[index][said] if said < len(lines[index]) else STOP
        seen = json.dumps(messages, ensure_ascii=False)
        index = next((i for i in tau["chosen"] if writes[i][1]["order_id"] in seen), None)
        if index is None:
            return "Could you tell me your email address and the order number?"
        if index in text_only:
            return "Thank you for waiting. Is there anything else you would like to know about your order?"
        name, arguments = writes[index]
        return Reply(tool_calls=[{"name": name, "arguments": arguments}])

    return respond


@pytest.fixture(scope="module")
def model_cache(cache_dir: Path) -> Path:
    """The agent's example vectors, shared with the rest of the run."""
    return cache_dir


@pytest.fixture
def server() -> Iterator[Any]:
    from evals.scripted_model import ScriptedModelServer

    with ScriptedModelServer() as running:
        yield running


def simulate(server: Any, tau: dict[str, Any], tmp_path: Path, model_cache: Path, *extra: str) -> Any:
    from cli import main

    env = {
        "HELLOWORD_DATA_DIR": str(tmp_path / "data"),
        "HELLOWORD_CACHE_DIR": str(model_cache),
        "HELLOWORD_LLM_BASE_URL": server.base_url,
        "HELLOWORD_LLM_MODEL": AGENT_MODEL,
        "HELLOWORD_LLM_API_KEY": None,
        "HELLOWORD_BRAIN": None,
        "HELLOWORD_DATABASE_URL": None,
        "OPENAI_API_KEY": None,
    }
    args = [
        "eval",
        "simulate",
        "--tasks",
        str(tau["root"] / "tasks_dev.json"),
        "--data",
        str(tau["root"] / "data"),
        "--task-ids",
        ",".join(map(str, tau["chosen"])),
        "--customer-model",
        CUSTOMER_MODEL,
        "--json",
        *extra,
    ]
    return CliRunner().invoke(main, args, env=env, catch_exceptions=False)


@pytest.mark.slow
def test_scripted_customers_reach_the_reference_end_state(
    server: Any, tau: dict[str, Any], tmp_path: Path, model_cache: Path
) -> None:
    server.set_responder(scripted_responder(tau))
    result = simulate(server, tau, tmp_path, model_cache, "--trials", "2")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    english = report["languages"]["en"]
    assert english["failures"] == [], english["failures"]
    assert english["pass_hat_k"] == {"1": 1.0, "2": 1.0}
    assert [t["index"] for t in english["per_task"]] == tau["chosen"]
    for task in english["per_task"]:
        assert task["trials"] == 2 and task["successes"] == 2
        assert task["agent_usage"]["model_calls"] > 0 and task["agent_usage"]["prompt_tokens"] > 0
        assert task["customer_usage"]["model_calls"] == 3  # two lines, then the stop word
        assert task["mean_turns"] == 2
    assert all(r["ended"] == "stop" for r in english["results"])
    models = {r.get("model") for r in server.requests}
    assert models == {CUSTOMER_MODEL, AGENT_MODEL}
    # Roles are flipped for the customer: the agent's lines reach it as user messages.
    last_customer_call = [r for r in server.requests if r["model"] == CUSTOMER_MODEL][-1]
    assert [m["role"] for m in last_customer_call["messages"]] == ["system", "user", "assistant", "user", "assistant", "user"]


@pytest.mark.slow
def test_an_agent_that_only_talks_fails_the_task(server: Any, tau: dict[str, Any], tmp_path: Path, model_cache: Path) -> None:
    talker = tau["chosen"][0]
    server.set_responder(scripted_responder(tau, text_only=frozenset({talker})))
    result = simulate(server, tau, tmp_path, model_cache, "--trials", "1", "--customer-language", "es")
    assert result.exit_code == 0, result.output
    spanish = json.loads(result.stdout)["languages"]["es"]
    assert spanish["pass_hat_k"] == {"1": 0.5}
    [failure] = spanish["failures"]
    assert failure["index"] == talker and failure["successes"] == 0
    assert any("expected a change, none made" in p for p in failure["problems"]), failure["problems"]
    first_customer_call = next(r for r in server.requests if r["model"] == CUSTOMER_MODEL)
    assert "Spanish" in first_customer_call["messages"][0]["content"]
    assert first_customer_call["messages"][1]["content"].startswith("¡Hola!")


def test_a_missing_tasks_file_is_a_clear_error(tmp_path: Path) -> None:
    from cli import main

    env = {"HELLOWORD_DATA_DIR": str(tmp_path / "data"), "HELLOWORD_LLM_BASE_URL": "http://127.0.0.1:9/v1"}
    result = CliRunner().invoke(
        main, ["eval", "simulate", "--tasks", str(tmp_path / "tasks_nowhere.json"), "--data", str(tmp_path)], env=env
    )
    assert result.exit_code == 2
    assert "tasks_nowhere.json" in result.output and "not found" in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert "Traceback" not in result.output


def test_task_ids_and_limit_do_not_mix(tmp_path: Path) -> None:
    from cli import main

    args = [
        "eval",
        "simulate",
        "--tasks",
        str(tmp_path / "tasks_x.json"),
        "--data",
        str(tmp_path),
        "--task-ids",
        "1",
        "--limit",
        "2",
    ]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 2 and "--task-ids and --limit" in result.output
