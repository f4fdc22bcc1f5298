"""The support agent on the small test shop, for the conversation tests."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from agent.service import SupportAgent
from commerce.db import Store
from config import Settings
from tests.conftest import NOW, build_shop


@pytest.fixture
def settings(tmp_path: Path, cache_dir: Path) -> Settings:
    return Settings(data_dir=tmp_path, cache_dir=cache_dir, secret_key="test-secret")


@pytest.fixture
def agent(settings: Settings) -> Iterator[SupportAgent]:
    store = Store(settings.resolved_database_url)
    build_shop(store)
    support = SupportAgent(settings, store=store, clock=lambda: NOW, use_knowledge=False)
    yield support
    support.close()
    store.dispose()
