"""The application on the small shop, with the offline agent and no knowledge base."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from agent.service import SupportAgent
from commerce.db import Store
from config import Settings
from support.runtime import Runtime
from tests.conftest import NOW, build_shop


def offline_agent(runtime: Runtime) -> SupportAgent:
    return SupportAgent(runtime.settings, store=runtime.store, clock=runtime.clock, use_knowledge=False)


@pytest.fixture
def runtime(store: Store, tmp_path: Path, cache_dir: Path) -> Iterator[Runtime]:
    build_shop(store)
    settings = Settings(data_dir=tmp_path / "data", cache_dir=cache_dir, secret_key="support-test", brain="offline")
    runtime = Runtime(settings, store=store, clock=lambda: NOW, agent_factory=offline_agent)
    yield runtime
    runtime.close()
