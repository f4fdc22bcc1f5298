"""The runtime: the store opens on first use, the agent is built once, and the event bus
delivers a channel's events to its subscribers only."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.exc import OperationalError

from agent.service import SupportAgent
from config import Settings
from support.runtime import EventBus, Runtime
from tests.support.conftest import offline_agent


def test_a_runtime_starts_while_the_database_is_down(tmp_path: Path) -> None:
    runtime = Runtime(Settings(data_dir=tmp_path, database_url="postgresql+psycopg://nobody@127.0.0.1:1/none"))
    assert runtime.secret  # kept in the data directory
    with pytest.raises(OperationalError):
        runtime.store  # noqa: B018 - opening the store is what fails
    runtime.close()


def test_the_support_agent_is_built_once_whoever_asks_first(runtime: Runtime) -> None:
    built: list[SupportAgent] = []

    def counting(rt: Runtime) -> SupportAgent:
        built.append(offline_agent(rt))
        return built[-1]

    shared = Runtime(runtime.settings, store=runtime.store, clock=runtime.clock, agent_factory=counting)
    agents: list[SupportAgent] = []
    threads = [threading.Thread(target=lambda: agents.append(shared.support_agent())) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    shared.close()
    assert len(built) == 1 and len(agents) == 4 and all(agent is built[0] for agent in agents)


def test_the_event_bus_delivers_a_channels_events_to_its_subscribers_only() -> None:
    bus = EventBus()

    async def watch() -> list[tuple[str, Any] | None]:
        with bus.subscribe("w-1") as subscription:
            assert bus.subscribers("w-1") == 1
            await asyncio.to_thread(bus.publish, "w-2", "message", {"text": "not for w-1"})
            await asyncio.to_thread(bus.publish, "w-1", "status", {"status": "resolved"})
            return [await subscription.next(timeout=5), await subscription.next(timeout=0.05)]

    assert asyncio.run(watch()) == [("status", {"status": "resolved"}), None]
    assert bus.subscribers("w-1") == 0
