"""What every face of the application shares: the settings, the seller's store, the support
agent, the event bus that carries what happens in a conversation to whoever watches it, the
knowledge documents and the background monitoring loop."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from agent.policy import PolicyGate, PolicyProfile, load_profile
from agent.service import SupportAgent, secret_key
from commerce.db import Store
from commerce.models import utcnow
from commerce.monitor import load_rules
from config import Settings
from knowledge.store import KnowledgeBase, profile_name
from support.knowledge import Documents, KnowledgeDesk, sync_knowledge
from support.monitoring import MonitorLoop, scan_and_act

Event = tuple[str, Any]  # (event name, data)
# The event a subscription gets when the bus closes: the stream that reads it ends.
CLOSING: Event = ("closing", {})


class Subscription:
    """One watcher of a channel: the events published to it since it subscribed, in order."""

    def __init__(self) -> None:
        self.loop = asyncio.get_running_loop()
        self.queue: asyncio.Queue[Event] = asyncio.Queue()

    async def next(self, timeout: float) -> Event | None:
        """The next event, or None when `timeout` seconds pass without one."""
        try:
            return await asyncio.wait_for(self.queue.get(), timeout=timeout)
        except TimeoutError:
            return None


class EventBus:
    """What happens in a conversation (reply tokens, a human's answer, a proactive message) or
    in the console's queue, delivered to every subscriber of its channel, from whichever thread
    produced it."""

    def __init__(self) -> None:
        self._subscribers: dict[str, set[Subscription]] = {}
        self._lock = threading.Lock()
        self.closed = False

    def close(self) -> None:
        """End every open stream (the server is stopping): each subscriber gets the closing
        event now, and new subscribers get it at once. Safe to call from any thread."""
        with self._lock:
            self.closed = True
            targets = [s for subscribers in self._subscribers.values() for s in subscribers]
        for subscription in targets:
            subscription.loop.call_soon_threadsafe(subscription.queue.put_nowait, CLOSING)

    def publish(self, channel: str, event: str, data: Any) -> None:
        """Safe to call from any thread."""
        with self._lock:
            targets = list(self._subscribers.get(channel, ()))
        for subscription in targets:
            subscription.loop.call_soon_threadsafe(subscription.queue.put_nowait, (event, data))

    def subscribers(self, channel: str) -> int:
        with self._lock:
            return len(self._subscribers.get(channel, ()))

    @contextlib.contextmanager
    def subscribe(self, channel: str) -> Iterator[Subscription]:
        """Receive the channel's events while the block runs (call it on the event loop that reads them)."""
        subscription = Subscription()
        with self._lock:
            self._subscribers.setdefault(channel, set()).add(subscription)
            if self.closed:
                subscription.queue.put_nowait(CLOSING)
        try:
            yield subscription
        finally:
            with self._lock:
                subscribers = self._subscribers.get(channel)
                if subscribers is not None:
                    subscribers.discard(subscription)
                    if not subscribers:
                        del self._subscribers[channel]


class Runtime:
    """One deployment's running application. The store opens on first use, so the process starts
    (and reports not ready) while the database is down; the support agent is built once, on the
    first `support_agent()` call."""

    def __init__(
        self,
        settings: Settings,
        *,
        store: Store | None = None,
        agent: SupportAgent | None = None,
        clock: Callable[[], dt.datetime] = utcnow,
        agent_factory: Callable[[Runtime], SupportAgent] | None = None,
    ) -> None:
        self.settings = settings
        self.secret = secret_key(settings)
        self.clock = clock
        self.bus = EventBus()
        self.knowledge = KnowledgeDesk(self.documents, self.knowledge_base)
        self._store = store
        self._store_lock = threading.Lock()
        self._agent = agent
        self._agent_factory = agent_factory
        self._agent_ready = False
        self._agent_lock = threading.Lock()
        self._monitor = MonitorLoop(settings.monitor_interval, self.monitor_once)

    @property
    def store(self) -> Store:
        """The seller's database (opened, and its tables created, on first use)."""
        with self._store_lock:
            if self._store is None:
                self._store = Store(self.settings.resolved_database_url)
            return self._store

    @property
    def profile_name(self) -> str:
        """The name the deployment's policy profile and its documents are filed under."""
        return profile_name(self.settings.policy_profile)

    @property
    def profile_override(self) -> Path:
        """Where the admin's edited policy profile is kept (it wins over the shipped one)."""
        return self.settings.data_dir / "profiles" / f"{self.profile_name}.yaml"

    def support_agent(self) -> SupportAgent:
        """The support agent: built on the first call, its knowledge base then brought up to date
        with the documents admins edited."""
        with self._agent_lock:
            if self._agent is None:
                self._agent = self._build_agent()
            if not self._agent_ready:
                sync_knowledge(self.documents(), self._agent.knowledge)
                self._agent_ready = True
            return self._agent

    def _build_agent(self) -> SupportAgent:
        if self._agent_factory is not None:
            return self._agent_factory(self)
        settings = self.settings
        if self.profile_override.exists():
            settings = settings.model_copy(update={"policy_profile": str(self.profile_override)})
        return SupportAgent(settings, store=self.store, clock=self.clock)

    def knowledge_base(self) -> KnowledgeBase | None:
        """The support agent's knowledge base (None when it runs without one)."""
        knowledge: KnowledgeBase | None = self.support_agent().knowledge
        return knowledge

    def documents(self) -> Documents:
        """The knowledge documents of the deployment's policy profile."""
        return Documents(self.store, self.profile_name, self.clock)

    def use_profile(self, text: str, profile: PolicyProfile) -> None:
        """Keep an admin's policy profile (its YAML `text`) and have the agent follow it from now on."""
        self.profile_override.parent.mkdir(parents=True, exist_ok=True)
        self.profile_override.write_text(text, encoding="utf-8")
        agent = self.support_agent()
        agent.profile = profile
        agent.deps.profile, agent.deps.gate = profile, PolicyGate(profile)

    def monitor_once(self) -> dict[str, Any]:
        """One incremental exception scan and its playbooks; proactive messages are pushed to the
        customers' open chat windows and new flags to the console."""
        profile = self._agent.profile if self._agent is not None else load_profile(self.settings.policy_profile)
        result = scan_and_act(
            self.store,
            load_rules(self.settings.monitor_rules),
            self.clock(),
            profile,
            incremental=True,
            notify=lambda conversation_id, event: self.bus.publish(conversation_id, "message", event),
        )
        if result.flags:
            self.bus.publish("console", "flags", result.as_json())
        return result.as_json()

    def start_monitor(self) -> None:
        """Scan for exceptions every `monitor_interval` seconds in the background."""
        self._monitor.start()

    def close(self) -> None:
        self.bus.close()
        self._monitor.stop()
        if self._agent is not None:
            self._agent.close()
