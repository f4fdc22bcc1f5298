"""What every request goes through: a request id, the body size cap (on the declared length and
on the bytes actually read, chunked or not), the per-address rate limit on the API, a JSON log
line, and the counts and latency /metrics reports."""

from __future__ import annotations

import json
import logging
import statistics
import time
import uuid
from collections import Counter, deque
from collections.abc import Awaitable, Callable

from fastapi import Request, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.errors import error_response, rate_limited_response
from api.limits import RateLimited, RateLimiter

log = logging.getLogger("helloword.http")
CallNext = Callable[[Request], Awaitable[Response]]


class Metrics:
    """Request counts by route and status, and latency, for /metrics."""

    def __init__(self) -> None:
        self.requests: Counter[tuple[str, str, int]] = Counter()
        self.latency: deque[float] = deque(maxlen=5000)

    def record(self, method: str, route: str, status: int, seconds: float) -> None:
        self.requests[(method, route, status)] += 1
        self.latency.append(seconds)

    def render(self) -> str:
        lines = ["# TYPE helloword_http_requests_total counter"]
        for (method, route, status), count in sorted(self.requests.items()):
            lines.append(f'helloword_http_requests_total{{method="{method}",route="{route}",status="{status}"}} {count}')
        if self.latency:
            ordered = sorted(self.latency)
            lines += [
                "# TYPE helloword_http_latency_seconds summary",
                f'helloword_http_latency_seconds{{quantile="0.5"}} {statistics.median(ordered):.6f}',
                f'helloword_http_latency_seconds{{quantile="0.95"}} {ordered[int(0.95 * (len(ordered) - 1))]:.6f}',
            ]
        return "\n".join(lines) + "\n"


class RequestGuard:
    """The HTTP middleware: refuses oversized bodies and callers over their rate, then logs and
    counts every request."""

    def __init__(self, max_body_bytes: int, per_ip: RateLimiter, metrics: Metrics) -> None:
        self.max_body_bytes = max_body_bytes
        self.per_ip = per_ip
        self.metrics = metrics

    async def __call__(self, request: Request, call_next: CallNext) -> Response:
        request.state.request_id = uuid.uuid4().hex[:12]
        started = time.perf_counter()
        path = request.url.path
        length = request.headers.get("content-length")
        if length and length.isdigit() and int(length) > self.max_body_bytes:
            response: Response = error_response(413, f"the request body is larger than {self.max_body_bytes} bytes")
        else:
            try:
                if path.startswith("/api/") and request.client is not None:
                    self.per_ip.hit(request.client.host)
                response = await call_next(request)
            except RateLimited as error:
                response = rate_limited_response(error)
            except Exception:
                # A defect still gets its log line, its count and its request id, and the
                # connection stays usable for the next request.
                log.exception("request %s failed", request.state.request_id)
                response = error_response(500, f"internal error (request {request.state.request_id})")
        elapsed = time.perf_counter() - started
        route = getattr(request.scope.get("route"), "path", "other")
        self.metrics.record(request.method, route, response.status_code, elapsed)
        parts = path.split("/")
        conversation = parts[3] if len(parts) > 3 and parts[2] == "conversations" else None
        log.info(
            json.dumps(
                {
                    "request_id": request.state.request_id,
                    "method": request.method,
                    "path": path,
                    "status": response.status_code,
                    "ms": round(elapsed * 1000, 1),
                    "conversation_id": conversation,
                }
            )
        )
        response.headers["X-Request-ID"] = request.state.request_id
        return response


class BodyLimit:
    """Counts the bytes of every request body as they are read and stops at the cap, so that a
    body sent in chunks without a Content-Length is held to it too: the reader gets no more than
    the cap, and whatever the endpoint answers is replaced by a 413."""

    def __init__(self, app: ASGIApp, max_body_bytes: int) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        read = 0
        exceeded = False
        answered = False
        started = False

        async def counted() -> Message:
            nonlocal read, exceeded
            if exceeded:
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] == "http.request":
                read += len(message.get("body", b""))
                if read > self.max_body_bytes:
                    exceeded = True
                    return {"type": "http.request", "body": b"", "more_body": False}
            return message

        async def replaced(message: Message) -> None:
            nonlocal answered, started
            if not exceeded or started:
                # (An answer begun before the cap was passed goes on as it began.)
                started = started or message["type"] == "http.response.start"
                await send(message)
                return
            if answered:
                return
            answered = True
            refused = error_response(413, f"the request body is larger than {self.max_body_bytes} bytes")
            await refused(scope, _nothing, send)

        await self.app(scope, counted, replaced)


async def _nothing() -> Message:
    return {"type": "http.disconnect"}
