"""Request rate limits: a sliding one-minute window per key (a client IP, a conversation)."""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from collections.abc import Callable

from config import Settings


class RateLimited(Exception):
    def __init__(self, retry_after: int, what: str) -> None:
        super().__init__(f"too many requests from this {what}; try again in {retry_after} s")
        self.retry_after = retry_after
        self.what = what


class RateLimiter:
    def __init__(self, per_minute: int, what: str, clock: Callable[[], float] = time.monotonic) -> None:
        self.per_minute, self.what, self.clock = per_minute, what, clock
        self._hits: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def hit(self, key: str) -> None:
        """Count a request; raise RateLimited (with the seconds to wait) past the limit."""
        if self.per_minute <= 0:
            return
        now = self.clock()
        with self._lock:
            hits = self._hits.setdefault(key, deque())
            while hits and hits[0] <= now - 60:
                hits.popleft()
            if len(hits) >= self.per_minute:
                raise RateLimited(max(1, math.ceil(hits[0] + 60 - now)), self.what)
            hits.append(now)
            if len(self._hits) > 100_000:  # forget idle keys rather than grow without bound
                for stale in [k for k, v in self._hits.items() if not v or v[-1] <= now - 60]:
                    del self._hits[stale]


# A message longer than this counts against the address's budget of long messages.
LONG_MESSAGE_CHARS = 1000


class RequestLimits:
    """The deployment's limits: requests a minute from one address, messages a minute in one
    conversation, long messages a minute from one address."""

    def __init__(self, settings: Settings) -> None:
        self.per_ip = RateLimiter(settings.rate_limit_per_ip, "address")
        self.per_conversation = RateLimiter(settings.rate_limit_per_conversation, "conversation")
        # A long message costs several short ones of CPU: one address gets a few a minute.
        self.long_per_ip = RateLimiter(settings.rate_limit_long_messages, "address")
