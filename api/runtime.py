"""What every route shares: the settings, the store, the support agent (built on first use),
the event bus, the rate limits and the signing key."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fastapi import Request

from agent.service import SupportAgent, secret_key
from api.auth import Staff, authenticate, require
from api.events import EventBus
from api.limits import RateLimiter
from commerce.db import Store
from commerce.models import StaffRole, utcnow
from config import Settings


@dataclass
class Runtime:
    settings: Settings
    store: Store
    secret: str
    bus: EventBus = field(default_factory=EventBus)
    clock: Callable[[], dt.datetime] = utcnow
    agent_factory: Callable[[Runtime], SupportAgent] | None = None
    per_ip: RateLimiter | None = None
    per_conversation: RateLimiter | None = None
    _agent: SupportAgent | None = None
    _agent_lock: threading.Lock = field(default_factory=threading.Lock)

    @classmethod
    def create(
        cls, settings: Settings, *, store: Store | None = None, agent: SupportAgent | None = None, **extra: Any
    ) -> Runtime:
        runtime = cls(
            settings=settings, store=store or Store(settings.resolved_database_url), secret=secret_key(settings), **extra
        )
        runtime._agent = agent
        runtime.per_ip = RateLimiter(settings.rate_limit_per_ip, "address")
        runtime.per_conversation = RateLimiter(settings.rate_limit_per_conversation, "conversation")
        return runtime

    @property
    def profile_override(self) -> Path:
        """Where the admin's edited policy profile is kept (it wins over the shipped one)."""
        from knowledge.store import profile_name

        return self.settings.data_dir / "profiles" / f"{profile_name(self.settings.policy_profile)}.yaml"

    @property
    def agent(self) -> SupportAgent:
        with self._agent_lock:
            if self._agent is None:
                if self.agent_factory is not None:
                    self._agent = self.agent_factory(self)
                else:
                    settings = self.settings
                    if self.profile_override.exists():
                        settings = settings.model_copy(update={"policy_profile": str(self.profile_override)})
                    self._agent = SupportAgent(settings, store=self.store, clock=self.clock)
                from api.admin import sync_knowledge

                sync_knowledge(self)
            return self._agent

    def staff(self, request: Request, role: StaffRole = StaffRole.AGENT) -> Staff:
        from api.auth import SESSION_COOKIE

        staff = authenticate(
            self.store,
            self.secret,
            cookie=request.cookies.get(SESSION_COOKIE),
            authorization=request.headers.get("authorization"),
            method=request.method,
            csrf_header=request.headers.get("x-csrf-token"),
        )
        return require(staff, role)

    def close(self) -> None:
        if self._agent is not None:
            self._agent.close()
