"""The HTTP face of Helloword (FastAPI). For now: health, readiness and the tool catalogue;
the customer, agent and admin APIs build on it."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.responses import JSONResponse
from sqlalchemy import text

from commerce.db import Store
from config import Settings, get_settings
from tools import tool_schemas


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    stores: list[Store] = []

    def store() -> Store:
        # Opened on first use, so the process starts (and reports not ready) while the database is down.
        if not stores:
            stores.append(Store(settings.resolved_database_url))
        return stores[0]

    app = FastAPI(title="Helloword", version="0.1.0", description="After-sales support agent for cross-border sellers.")

    @app.get("/healthz")
    def healthz() -> dict[str, str]:
        """The process is up."""
        return {"status": "ok"}

    @app.get("/readyz")
    def readyz() -> JSONResponse:
        """The database answers."""
        try:
            with store().read() as session:
                session.execute(text("SELECT 1"))
        except Exception as error:  # any database failure means not ready
            return JSONResponse({"status": "unavailable", "detail": type(error).__name__}, status_code=503)
        return JSONResponse({"status": "ready"})

    @app.get("/api/tools")
    def tools() -> list[dict[str, Any]]:
        """The agent's tools as JSON schemas (OpenAI function-calling format)."""
        return tool_schemas()

    return app
