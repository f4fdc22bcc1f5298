"""Operations: liveness, readiness, metrics, and the agent's tools as JSON schemas."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse, PlainTextResponse
from sqlalchemy import text

from agent.lockout import lockouts_recorded
from api.deps import MetricsDep, RuntimeDep
from tools import tool_schemas

router = APIRouter(tags=["operations"])


@router.get("/healthz")
def healthz() -> dict[str, str]:
    """The process is up."""
    return {"status": "ok"}


@router.get("/readyz")
def readyz(runtime: RuntimeDep) -> JSONResponse:
    """The database answers."""
    try:
        with runtime.store.read() as session:
            session.execute(text("SELECT 1"))
    except Exception as error:  # any database failure means not ready
        return JSONResponse({"status": "unavailable", "detail": type(error).__name__}, status_code=503)
    return JSONResponse({"status": "ready"})


@router.get("/metrics", response_class=PlainTextResponse)
def prometheus(metrics: MetricsDep, runtime: RuntimeDep) -> str:
    """Request counts and latency in the Prometheus text format, and the lockouts of identity
    proofs the audit ledger holds (shared by every process)."""
    lockouts = lockouts_recorded(runtime.store)
    return metrics.render() + f"# TYPE helloword_identity_lockouts_total counter\nhelloword_identity_lockouts_total {lockouts}\n"


@router.get("/api/tools")
def tools() -> list[dict[str, Any]]:
    """The agent's tools as JSON schemas (OpenAI function-calling format)."""
    return tool_schemas()
