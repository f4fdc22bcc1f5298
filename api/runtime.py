"""What every route shares: the settings, the store, the support agent (built on first use),
the event bus, the rate limits and the signing key."""

from __future__ import annotations

import datetime as dt
import logging
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
    _monitor: threading.Thread | None = None
    _stop: threading.Event = field(default_factory=threading.Event)

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

    def monitor_once(self) -> dict[str, Any]:
        """One incremental exception scan, its playbooks run, and proactive messages pushed to
        the customers' open chat windows."""
        from agent.policy import load_profile
        from commerce.monitor import load_rules, scan
        from commerce.playbooks import run_playbooks

        now = self.clock()
        profile = self._agent.profile if self._agent is not None else load_profile(self.settings.policy_profile)
        result = scan(self.store, load_rules(self.settings.monitor_rules), now, incremental=True, playbooks=False)
        if result.flags:
            result.playbooks_run = run_playbooks(
                self.store,
                result.flags,
                now,
                profile,
                notify=lambda conversation, event: self.bus.publish(conversation, "message", event),
            )
            self.bus.publish("console", "flags", result.as_json())
        return result.as_json()

    def start_monitor(self) -> None:
        """Scan for exceptions every `monitor_interval` seconds in the background."""
        interval = self.settings.monitor_interval
        if interval <= 0 or self._monitor is not None:
            return

        def loop() -> None:
            while not self._stop.wait(interval):
                try:
                    self.monitor_once()
                except Exception:  # a failed scan is logged; the next one tries again
                    logging.getLogger("helloword.monitor").exception("exception scan failed")

        self._monitor = threading.Thread(target=loop, name="helloword-monitor", daemon=True)
        self._monitor.start()

    def close(self) -> None:
        self._stop.set()
        if self._agent is not None:
            self._agent.close()
