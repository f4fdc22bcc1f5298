"""Replay of tau-retail tasks: each task's ground-truth actions run through Helloword's own
tools, behind the policy gate with the `tau-retail` profile, on a fresh copy of the data;
the end state is reported in the benchmark's reference form."""

from __future__ import annotations

import ast
import json
import operator
import sqlite3
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from agent.policy import PolicyGate, Verdict, load_profile
from agent.runner import ActionRunner, Proposal
from commerce.db import Store
from commerce.models import Order, Variant
from commerce.tau_retail import export_orders, export_products, export_state, export_users, import_tau_retail
from tools import keys


class TaskFileError(Exception):
    """A tasks or reference file that cannot be read; the message names the file."""


# ---------------------------------------------------------------- benchmark tool names → ours


def _address(a: dict[str, Any]) -> dict[str, Any]:
    return {
        "address1": a.get("address1", ""),
        "address2": a.get("address2", ""),
        "city": a.get("city", ""),
        "state": a.get("state", ""),
        "postal_code": a.get("zip", ""),
        "country": a.get("country", ""),
        "country_code": "US" if a.get("country") == "USA" else None,
    }


def _translate(name: str, a: dict[str, Any]) -> tuple[str, dict[str, Any]] | None:
    """Our tool and arguments for a benchmark call; None for calls that touch no record."""
    table: dict[str, Callable[[dict[str, Any]], tuple[str, dict[str, Any]]]] = {
        "find_user_id_by_email": lambda a: ("find_customer_by_email", {"email": a["email"]}),
        "find_user_id_by_name_zip": lambda a: (
            "find_customer_by_name_postal_code",
            {"first_name": a["first_name"], "last_name": a["last_name"], "postal_code": a["zip"]},
        ),
        "get_user_details": lambda a: ("get_customer", {"customer_id": a["user_id"]}),
        "get_order_details": lambda a: ("get_order", {"order_id": a["order_id"]}),
        "get_product_details": lambda a: ("get_product", {"product_id": a["product_id"]}),
        "list_all_product_types": lambda a: ("list_product_types", {}),
        "cancel_pending_order": lambda a: ("cancel_order", {"order_id": a["order_id"], "reason": a["reason"]}),
        "modify_pending_order_address": lambda a: (
            "change_shipping_address",
            {"order_id": a["order_id"], "address": _address(a)},
        ),
        "modify_pending_order_items": lambda a: ("modify_order_items", dict(a)),
        "modify_pending_order_payment": lambda a: ("modify_order_payment", dict(a)),
        "return_delivered_order_items": lambda a: ("return_items", dict(a)),
        "exchange_delivered_order_items": lambda a: ("exchange_items", dict(a)),
        "modify_user_address": lambda a: ("update_customer_address", {"customer_id": a["user_id"], "address": _address(a)}),
        "transfer_to_human_agents": lambda a: (
            "escalate_to_human",
            {"reason": "Transferred to a human agent", "summary": str(a.get("summary", ""))},
        ),
    }
    if name in ("think", "calculate"):
        if name == "calculate":
            safe_arithmetic(str(a.get("expression", "")))
        return None
    if name not in table:
        raise KeyError(name)
    return table[name](a)


_OPERATORS: dict[type[ast.AST], Callable[..., Any]] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
    ast.USub: operator.neg,
    ast.UAdd: operator.pos,
}


def safe_arithmetic(expression: str) -> Decimal:
    """Evaluate + - * / and parentheses over numbers, nothing else."""

    def walk(node: ast.AST) -> Decimal:
        if isinstance(node, ast.Expression):
            return walk(node.body)
        if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)):
            return Decimal(str(node.value))
        if isinstance(node, ast.BinOp) and type(node.op) in _OPERATORS:
            return Decimal(_OPERATORS[type(node.op)](walk(node.left), walk(node.right)))
        if isinstance(node, ast.UnaryOp) and type(node.op) in _OPERATORS:
            return Decimal(_OPERATORS[type(node.op)](walk(node.operand)))
        raise ValueError(f"not an arithmetic expression: {expression!r}")

    return walk(ast.parse(expression, mode="eval"))


# ---------------------------------------------------------------- state diff


def diff_state(before: dict[str, dict[str, Any]], after: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """`changed` in the reference form: `orders/<id>` or `users/<id>` → every top-level field
    whose value differs, with its value after."""
    changed: dict[str, dict[str, Any]] = {}
    for kind in ("orders", "users", "products"):
        if kind not in after:
            continue
        old_records, new_records = before[kind], after[kind]
        for record_id, new in new_records.items():
            old = old_records.get(record_id, {})
            fields = {k: v for k, v in new.items() if k not in old or old[k] != v}
            fields.update({k: None for k in old if k not in new})
            if fields:
                changed[f"{kind}/{record_id}"] = fields
    return changed


def values_equal(a: Any, b: Any) -> bool:
    """Equality of JSON values, with numbers compared to a millionth."""
    if isinstance(a, bool) or isinstance(b, bool):
        return a is b
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return abs(a - b) < 1e-6
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(values_equal(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(values_equal(x, y) for x, y in zip(a, b, strict=True))
    return bool(a == b)


def _float_price_difference(store: Store, order_id: str, item_ids: list[str], new_item_ids: list[str]) -> float | None:
    """The benchmark's reference sums price differences in binary floating point (32.05 shows
    as 32.049999999999955); the report states settlement amounts the same way so results
    compare exactly. The store itself keeps the exact decimal."""
    with store.read() as session:
        order = session.get(Order, order_id)
        if order is None:
            return None
        total = 0.0
        for old_id, new_id in zip(item_ids, new_item_ids, strict=False):
            line = next((li for li in order.items if li.variant_id == old_id), None)
            variant = session.get(Variant, new_id)
            if line is None or variant is None:
                return None
            total += float(variant.price) - float(line.unit_price)
        return abs(total)


# ---------------------------------------------------------------- which records a task touched

# The tables behind each exported record, with the column naming the record.
_RECORD_TABLES: dict[str, tuple[tuple[str, str], ...]] = {
    "orders": (
        ("orders", "id"),
        ("order_items", "order_id"),
        ("payment_transactions", "order_id"),
        ("shipments", "order_id"),
        ("returns", "order_id"),
        ("exchanges", "order_id"),
    ),
    "users": (("customers", "id"), ("payment_methods", "customer_id"), ("orders", "customer_id")),
    "products": (("products", "id"), ("variants", "product_id")),
}


def record_fingerprints(store: Store) -> dict[str, dict[str, int]]:
    """A hash of every row behind each exported record: comparing two of these finds the
    records a task changed without exporting the whole store."""
    prints: dict[str, dict[str, int]] = {kind: {} for kind in _RECORD_TABLES}
    with store.engine.connect() as conn:
        for kind, tables in _RECORD_TABLES.items():
            for table, key in tables:
                result = conn.exec_driver_sql(f"SELECT * FROM {table} ORDER BY 1")
                position = list(result.keys()).index(key)
                for row in result:
                    owner = str(row[position])
                    prints[kind][owner] = hash((prints[kind].get(owner), table, tuple(row)))
    return prints


def touched(before: dict[str, dict[str, int]], after: dict[str, dict[str, int]]) -> dict[str, set[str]]:
    return {
        kind: {k for k in set(before[kind]) | set(after[kind]) if before[kind].get(k) != after[kind].get(k)} for kind in before
    }


# ---------------------------------------------------------------- replay


@dataclass
class TaskResult:
    index: int
    changed: dict[str, dict[str, Any]]
    errors: list[str]

    def as_json(self) -> dict[str, Any]:
        return {"index": self.index, "changed": self.changed, "errors": self.errors}


@dataclass
class ReplaySummary:
    tasks: int = 0
    matched: int = 0
    compared: int = 0
    mismatches: list[dict[str, Any]] = field(default_factory=list)
    seconds: float = 0.0


def load_json_list(path: Path) -> list[dict[str, Any]]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as e:
        raise TaskFileError(f"{path}: file not found") from e
    except json.JSONDecodeError as e:
        raise TaskFileError(f"{path}: not valid JSON (line {e.lineno}, column {e.colno})") from e
    if not isinstance(data, list) or not all(isinstance(t, dict) for t in data):
        raise TaskFileError(f"{path}: expected a JSON list of objects")
    return data


class TauRetailReplay:
    """Imports the data once into a template database and copies it for every task."""

    def __init__(self, data_dir: Path, workdir: Path | None = None) -> None:
        self._tmp = tempfile.TemporaryDirectory(prefix="helloword-replay-") if workdir is None else None
        self.workdir: Path = workdir if workdir is not None else Path(self._tmp.name if self._tmp else ".")
        self.template = self.workdir / "template.db"
        template_store = Store(f"sqlite:///{self.template}")
        import_tau_retail(template_store, data_dir)
        with template_store.read() as session:
            self.initial_state = export_state(session)
        self.initial_prints = record_fingerprints(template_store)
        template_store.dispose()
        self.gate = PolicyGate(load_profile("tau-retail"))

    def close(self) -> None:
        if self._tmp:
            self._tmp.cleanup()

    @contextmanager
    def fresh_store(self, index: int) -> Iterator[Store]:
        path = self.workdir / f"task-{index}.db"
        source = sqlite3.connect(self.template)
        target = sqlite3.connect(path)
        source.backup(target)
        source.close()
        target.close()
        store = Store(f"sqlite:///{path}", create=False)
        try:
            yield store
        finally:
            store.dispose()
            for suffix in ("", "-wal", "-shm"):
                Path(f"{path}{suffix}").unlink(missing_ok=True)

    def end_state(self, index: int, store: Store) -> TaskResult:
        """What a conversation changed in a task's store, in the reference's form."""
        changed_ids = touched(self.initial_prints, record_fingerprints(store))
        with store.read() as session:
            after = {
                "orders": export_orders(session, changed_ids["orders"]),
                "users": export_users(session, changed_ids["users"]),
            }
        return TaskResult(index=index, changed=diff_state(self.initial_state, after), errors=[])

    def run_task(self, index: int, task: dict[str, Any]) -> TaskResult:
        errors: list[str] = []
        float_amounts: dict[str, float] = {}
        with self.fresh_store(index) as store:
            runner = ActionRunner(store, self.gate)
            for step, action in enumerate(task.get("actions", [])):
                name, arguments = action.get("name", ""), action.get("arguments", {}) or {}
                try:
                    translated = _translate(name, arguments)
                except (KeyError, ValueError, SyntaxError) as e:
                    errors.append(f"Error: {name}: {e}")
                    continue
                if translated is None:
                    continue
                tool, our_args = translated
                pending_float = None
                if tool == "modify_order_items":
                    pending_float = _float_price_difference(
                        store,
                        str(our_args.get("order_id")),
                        list(our_args.get("item_ids", [])),
                        list(our_args.get("new_item_ids", [])),
                    )
                # The customer's confirmation is taken as given in a replay.
                proposal = Proposal(
                    tool,
                    our_args,
                    started_by=f"replay:{index}",
                    customer_id=task.get("user_id"),
                    identity_verified=True,
                    confirmed=True,
                )
                call = runner.run(proposal, key=keys.replay_step(index, step))
                if call.outcome is None:
                    if call.decision.verdict is not Verdict.APPROVE:
                        errors.append("Error: " + " ".join(call.decision.reasons))
                    continue
                if not call.outcome.ok:
                    errors.append(f"Error: {call.outcome.error}")
                elif pending_float is not None:
                    float_amounts[str(call.outcome.result and call.outcome.result["order_id"])] = pending_float
            changed_ids = touched(self.initial_prints, record_fingerprints(store))
            with store.read() as session:
                after = {
                    "orders": export_orders(session, changed_ids["orders"]),
                    "users": export_users(session, changed_ids["users"]),
                }
                if changed_ids["products"]:
                    after["products"] = export_products(session)
        changed = diff_state(self.initial_state, after)
        for order_id, amount in float_amounts.items():
            history = changed.get(f"orders/{order_id}", {}).get("payment_history")
            if history and abs(history[-1]["amount"] - amount) < 0.005:
                history[-1]["amount"] = amount
        return TaskResult(index=index, changed=changed, errors=errors)


def compare(result: TaskResult, reference: dict[str, Any]) -> list[str]:
    """Differences between a result and its reference, as readable lines."""
    problems = []
    expected = reference.get("changed", {})
    for key in sorted(set(expected) | set(result.changed)):
        if key not in result.changed:
            problems.append(f"{key}: expected a change, none made")
        elif key not in expected:
            problems.append(f"{key}: changed but should not be: {sorted(result.changed[key])}")
        else:
            for fname in sorted(set(expected[key]) | set(result.changed[key])):
                if not values_equal(expected[key].get(fname), result.changed[key].get(fname)):
                    problems.append(
                        f"{key}.{fname}: expected {expected[key].get(fname)!r}, got {result.changed[key].get(fname)!r}"
                    )
    if len(reference.get("errors", [])) != len(result.errors):
        problems.append(f"errors: expected {reference.get('errors')}, got {result.errors}")
    return problems


def replay_tasks(
    data_dir: Path,
    tasks: list[dict[str, Any]],
    out: Path,
    *,
    reference: list[dict[str, Any]] | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> ReplaySummary:
    started = time.perf_counter()
    summary = ReplaySummary(tasks=len(tasks))
    replay = TauRetailReplay(data_dir)
    out.parent.mkdir(parents=True, exist_ok=True)
    try:
        with out.open("w", encoding="utf-8") as sink:
            for index, task in enumerate(tasks):
                result = replay.run_task(index, task)
                sink.write(json.dumps(result.as_json(), ensure_ascii=False) + "\n")
                if reference is not None and index < len(reference):
                    summary.compared += 1
                    problems = compare(result, reference[index])
                    if problems:
                        summary.mismatches.append({"index": index, "problems": problems})
                    else:
                        summary.matched += 1
                if progress:
                    progress(index + 1, len(tasks))
    finally:
        replay.close()
    summary.seconds = time.perf_counter() - started
    return summary
