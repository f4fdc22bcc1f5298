"""Server-sent events: a channel of the application's event bus (a conversation's reply tokens,
a human's answer, a proactive message) as the body an EventSource reads."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

from support.runtime import CLOSING, EventBus


async def event_stream(bus: EventBus, channel: str, *, heartbeat: float = 15.0) -> AsyncIterator[str]:
    """The channel's events as an SSE body; a comment line keeps idle connections open."""
    with bus.subscribe(channel) as subscription:
        yield ": connected\n\n"
        while True:
            event = await subscription.next(timeout=heartbeat)
            if event is None:
                yield ": keep-alive\n\n"
                continue
            name, data = event
            yield f"event: {name}\ndata: {json.dumps(data, ensure_ascii=False)}\n\n"
            if event == CLOSING:
                # The server is stopping: the stream ends, and the widget reconnects to another.
                return
