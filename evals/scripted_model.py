"""A scripted OpenAI-compatible chat model on 127.0.0.1 for tests, benchmarks and the CI run of the
simulated-customer evaluation: it answers `POST /v1/chat/completions` (plain or streamed as
server-sent events) and `GET /v1/models` in the Chat Completions wire format, from a queue of
scripted replies or a responder function, and can answer with errors, delays and token counts
chosen by the script."""

from __future__ import annotations

import asyncio
import json
import math
import socket
import threading
import time
import uuid
from collections import deque
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass
from types import TracebackType
from typing import Any

import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response, StreamingResponse

_ERROR_KINDS = {
    400: ("invalid_request_error", "invalid_request"),
    401: ("authentication_error", "invalid_api_key"),
    404: ("invalid_request_error", "model_not_found"),
    429: ("rate_limit_error", "rate_limit_exceeded"),
}


@dataclass
class Reply:
    """One scripted answer.

    `tool_calls` items are `{"name": str, "arguments": dict | str}`; string arguments are sent
    verbatim. A `status` other than 200 answers with an OpenAI-style error body whose message is
    `text` (or a default), and `retry_after` sets the Retry-After header on it. `hang` delays the
    answer by that many seconds without holding up other requests."""

    text: str | None = None
    tool_calls: list[dict[str, Any]] | None = None
    status: int = 200
    retry_after: float | None = None
    hang: float = 0.0
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    chunk_chars: int = 8


Responder = Callable[[dict[str, Any]], "Reply | str"]


def last_user_text(request: dict[str, Any]) -> str:
    """The text of the last user message of a chat request, "" if there is none."""
    for message in reversed(request.get("messages") or []):
        if isinstance(message, dict) and message.get("role") == "user":
            return _content_text(message.get("content"))
    return ""


def system_text(request: dict[str, Any]) -> str:
    """The text of the first system message of a chat request, "" if there is none."""
    for message in request.get("messages") or []:
        if isinstance(message, dict) and message.get("role") == "system":
            return _content_text(message.get("content"))
    return ""


def _content_text(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(str(part.get("text", "")) for part in content if isinstance(part, dict))
    return ""


def _prompt_tokens(request: dict[str, Any]) -> int:
    chars = sum(len(_content_text(m.get("content"))) for m in request.get("messages") or [] if isinstance(m, dict))
    if request.get("tools"):
        chars += len(json.dumps(request["tools"]))
    return max(1, math.ceil(chars / 4))


def _error(status: int, message: str, retry_after: float | None = None) -> JSONResponse:
    kind, code = _ERROR_KINDS.get(status, ("server_error" if status >= 500 else "invalid_request_error", "scripted_error"))
    headers = {"retry-after": f"{retry_after:g}"} if retry_after is not None else None
    return JSONResponse({"error": {"message": message, "type": kind, "code": code, "param": None}}, status, headers)


class ScriptedModelServer:
    """An OpenAI-compatible chat server answering from a script, served from a background thread.

    Each chat request takes the first queued reply; when the queue is empty the responder (if any)
    answers from the request body; otherwise the answer is a 500 "script exhausted" error. Every
    well-formed chat request body is recorded in `requests`."""

    def __init__(self, script: Sequence[Reply | str] | Responder | None = None) -> None:
        self.requests: list[dict[str, Any]] = []
        self._queue: deque[Reply] = deque()
        self._responder: Responder | None = None
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self._port = 0
        if callable(script):
            self._responder = script
        elif isinstance(script, (str, Reply)):
            self.push(script)
        elif script is not None:
            self.push(*script)
        self.app = self._build_app()

    @property
    def base_url(self) -> str:
        """The OpenAI base URL of the running server, e.g. http://127.0.0.1:PORT/v1."""
        if not self._port:
            raise RuntimeError("the scripted model server is not started")
        return f"http://127.0.0.1:{self._port}/v1"

    @property
    def calls(self) -> int:
        """How many chat requests were received."""
        with self._lock:
            return len(self.requests)

    def push(self, *replies: Reply | str) -> None:
        """Queue scripted answers; they are used before the responder."""
        with self._lock:
            self._queue.extend(Reply(text=r) if isinstance(r, str) else r for r in replies)

    def set_responder(self, responder: Responder | None) -> None:
        """Answer requests from `responder` once the queue is empty (None removes it)."""
        with self._lock:
            self._responder = responder

    def start(self) -> ScriptedModelServer:
        """Serve on a free port of 127.0.0.1; returns once the port accepts connections."""
        if self._thread is not None:
            return self
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", 0))
        self._port = sock.getsockname()[1]
        config = uvicorn.Config(self.app, log_level="warning", lifespan="off", timeout_graceful_shutdown=2)
        server = uvicorn.Server(config)
        self._stopping.clear()
        thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, name="scripted-model", daemon=True)
        self._server, self._thread = server, thread
        thread.start()
        deadline = time.monotonic() + 10
        while not server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                self.stop()
                sock.close()
                raise RuntimeError("the scripted model server did not start")
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        """Stop serving; answers still waiting out a `hang` are released first."""
        self._stopping.set()
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=10)
        self._server, self._thread, self._port = None, None, 0

    def __enter__(self) -> ScriptedModelServer:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.stop()

    def _next_reply(self, body: dict[str, Any]) -> Reply:
        with self._lock:
            self.requests.append(body)
            if self._queue:
                return self._queue.popleft()
            responder = self._responder
        if responder is None:
            return Reply(text="script exhausted", status=500)
        try:
            answer = responder(body)
        except Exception as exc:
            return Reply(text=f"responder failed: {exc!r}", status=500)
        return Reply(text=answer) if isinstance(answer, str) else answer

    async def _pause(self, seconds: float) -> None:
        deadline = time.monotonic() + seconds
        while not self._stopping.is_set() and (left := deadline - time.monotonic()) > 0:
            await asyncio.sleep(min(left, 0.05))

    def _build_app(self) -> FastAPI:
        app = FastAPI(title="Scripted chat model", openapi_url=None, docs_url=None, redoc_url=None)

        @app.get("/v1/models")
        async def models() -> dict[str, Any]:
            with self._lock:
                names = dict.fromkeys(["scripted", *(str(r.get("model")) for r in self.requests if r.get("model"))])
            data = [{"id": name, "object": "model", "created": 0, "owned_by": "helloword"} for name in names]
            return {"object": "list", "data": data}

        @app.post("/v1/chat/completions")
        async def chat(request: Request) -> Response:
            try:
                body = json.loads(await request.body())
            except ValueError as exc:
                return _error(400, f"request body is not valid JSON: {exc}")
            if not isinstance(body, dict):
                return _error(400, "request body must be a JSON object")
            reply = self._next_reply(body)
            if reply.hang > 0:
                await self._pause(reply.hang)
            if reply.status != 200:
                return _error(reply.status, reply.text or f"scripted error {reply.status}", reply.retry_after)
            return _answer(body, reply)

        return app


def _arguments(call: dict[str, Any]) -> str:
    arguments = call.get("arguments", {})
    return arguments if isinstance(arguments, str) else json.dumps(arguments)


def _answer(body: dict[str, Any], reply: Reply) -> Response:
    calls: list[dict[str, Any]] = [
        {
            "id": f"call_{uuid.uuid4().hex[:24]}",
            "type": "function",
            "function": {"name": str(call["name"]), "arguments": _arguments(call)},
        }
        for call in reply.tool_calls or []
    ]
    content = reply.text if reply.text is not None or calls else ""
    completion = reply.completion_tokens
    if completion is None:
        chars = len(content or "") + sum(len(c["function"]["arguments"]) for c in calls)
        completion = max(1, math.ceil(chars / 4))
    prompt = reply.prompt_tokens if reply.prompt_tokens is not None else _prompt_tokens(body)
    usage = {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion}
    head = {"id": f"chatcmpl-{uuid.uuid4().hex}", "created": int(time.time()), "model": str(body.get("model") or "scripted")}
    finish = "tool_calls" if calls else "stop"
    if not body.get("stream"):
        message: dict[str, Any] = {"role": "assistant", "content": content}
        if calls:
            message["tool_calls"] = calls
        choice = {"index": 0, "message": message, "finish_reason": finish, "logprobs": None}
        return JSONResponse({**head, "object": "chat.completion", "choices": [choice], "usage": usage})
    options = body.get("stream_options")
    with_usage = isinstance(options, dict) and bool(options.get("include_usage"))
    return StreamingResponse(
        _stream(head, content, calls, finish, usage if with_usage else None, reply.chunk_chars), media_type="text/event-stream"
    )


async def _stream(
    head: dict[str, Any],
    content: str | None,
    calls: list[dict[str, Any]],
    finish: str,
    usage: dict[str, int] | None,
    chunk_chars: int,
) -> AsyncIterator[str]:
    def event(delta: dict[str, Any] | None, finish_reason: str | None = None) -> str:
        choices = [] if delta is None else [{"index": 0, "delta": delta, "finish_reason": finish_reason, "logprobs": None}]
        chunk: dict[str, Any] = {**head, "object": "chat.completion.chunk", "choices": choices}
        if delta is None:
            chunk["usage"] = usage
        return f"data: {json.dumps(chunk)}\n\n"

    size = max(1, chunk_chars)
    yield event({"role": "assistant", "content": "" if content is not None else None})
    for start in range(0, len(content or ""), size):
        yield event({"content": (content or "")[start : start + size]})
    for index, call in enumerate(calls):
        name, arguments = call["function"]["name"], call["function"]["arguments"]
        yield event(
            {"tool_calls": [{"index": index, "id": call["id"], "type": "function", "function": {"name": name, "arguments": ""}}]}
        )
        for start in range(0, len(arguments), size):
            yield event({"tool_calls": [{"index": index, "function": {"arguments": arguments[start : start + size]}}]})
    yield event({}, finish)
    if usage is not None:
        yield event(None)
    yield "data: [DONE]\n\n"
