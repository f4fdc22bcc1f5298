"""Server-sent events: what happens in a conversation (reply tokens, a human's answer, a
proactive message) reaches every open widget of that conversation, from whichever thread
produced it."""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import AsyncIterator
from typing import Any


class EventBus:
    def __init__(self) -> None:
        self._subscribers: dict[str, set[tuple[asyncio.AbstractEventLoop, asyncio.Queue[tuple[str, Any]]]]] = {}
        self._lock = threading.Lock()

    def publish(self, channel: str, event: str, data: Any) -> None:
        """Safe to call from any thread."""
        with self._lock:
            targets = list(self._subscribers.get(channel, ()))
        for loop, queue in targets:
            loop.call_soon_threadsafe(queue.put_nowait, (event, data))

    def subscribers(self, channel: str) -> int:
        with self._lock:
            return len(self._subscribers.get(channel, ()))

    async def stream(self, channel: str, *, heartbeat: float = 15.0) -> AsyncIterator[str]:
        """The channel's events as an SSE body; a comment line keeps idle connections open."""
        queue: asyncio.Queue[tuple[str, Any]] = asyncio.Queue()
        entry = (asyncio.get_running_loop(), queue)
        with self._lock:
            self._subscribers.setdefault(channel, set()).add(entry)
        try:
            yield ": connected\n\n"
            while True:
                try:
                    event, data = await asyncio.wait_for(queue.get(), timeout=heartbeat)
                except TimeoutError:
                    yield ": keep-alive\n\n"
                    continue
                yield f"event: {event}\ndata: {json.dumps(data, ensure_ascii=False)}\n\n"
        finally:
            with self._lock:
                subscribers = self._subscribers.get(channel)
                if subscribers is not None:
                    subscribers.discard(entry)
                    if not subscribers:
                        del self._subscribers[channel]
