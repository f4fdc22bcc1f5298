"""Typed actions on the seller's records. Importing this package registers every tool."""

from __future__ import annotations

from typing import Any

from tools import catalog, coupons, customers, escalation, orders, refunds, returns, shipping, stock
from tools.base import REGISTRY, Caller, ErrorCode, ToolError, ToolKind, ToolSpec, ToolTarget, WriteLimits
from tools.ledger import Toolbox, ToolOutcome

__all__ = [
    "REGISTRY",
    "Caller",
    "ErrorCode",
    "ToolError",
    "ToolKind",
    "ToolOutcome",
    "ToolSpec",
    "ToolTarget",
    "Toolbox",
    "WriteLimits",
    "catalog",
    "coupons",
    "customers",
    "escalation",
    "orders",
    "refunds",
    "returns",
    "shipping",
    "stock",
    "tool_schemas",
]


def tool_schemas(kind: ToolKind | None = None) -> list[dict[str, Any]]:
    """JSON schemas of the registered tools in the OpenAI function-calling format."""
    return [spec.json_schema() for spec in REGISTRY.values() if kind is None or spec.kind is kind]
