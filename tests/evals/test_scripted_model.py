"""The scripted chat model speaks the OpenAI Chat Completions wire format well enough for the
official client: text, streams, tool calls, errors, hangs, responders and request records."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Iterator
from typing import Any

import httpx
import openai
import pytest
from openai.types.chat import ChatCompletionMessageParam, ChatCompletionToolParam

from evals.scripted_model import Reply, ScriptedModelServer, last_user_text, system_text

USER: list[ChatCompletionMessageParam] = [{"role": "user", "content": "Where is my order #1042?"}]
LOOKUP: ChatCompletionToolParam = {
    "type": "function",
    "function": {
        "name": "lookup_order",
        "description": "Look up an order by number.",
        "parameters": {"type": "object", "properties": {"order": {"type": "string"}}, "required": ["order"]},
    },
}


@pytest.fixture
def server() -> Iterator[ScriptedModelServer]:
    with ScriptedModelServer() as running:
        yield running


def client(server: ScriptedModelServer, timeout: float = 5.0) -> openai.OpenAI:
    return openai.OpenAI(api_key="test", base_url=server.base_url, max_retries=0, timeout=timeout)


def test_plain_text_answer_carries_usage(server: ScriptedModelServer) -> None:
    server.push("Your parcel left the warehouse yesterday.")
    answer = client(server).chat.completions.create(model="shop-model", messages=USER)
    assert answer.model == "shop-model"
    assert answer.choices[0].message.content == "Your parcel left the warehouse yesterday."
    assert answer.choices[0].message.tool_calls is None
    assert answer.choices[0].finish_reason == "stop"
    assert answer.usage is not None
    assert answer.usage.prompt_tokens == 6  # ceil(24 chars / 4)
    assert answer.usage.completion_tokens == 11  # ceil(41 chars / 4)
    assert answer.usage.total_tokens == 17


def test_usage_can_be_set_by_the_script(server: ScriptedModelServer) -> None:
    server.push(Reply(text="ok", prompt_tokens=1000, completion_tokens=7))
    answer = client(server).chat.completions.create(model="m", messages=USER)
    assert answer.usage is not None
    assert (answer.usage.prompt_tokens, answer.usage.completion_tokens, answer.usage.total_tokens) == (1000, 7, 1007)


def test_streamed_answer_reassembles_with_usage(server: ScriptedModelServer) -> None:
    text = "We are sorry for the delay; a replacement ships today."
    server.push(Reply(text=text, chunk_chars=5))
    stream = client(server).chat.completions.create(model="m", messages=USER, stream=True, stream_options={"include_usage": True})
    chunks = list(stream)
    pieces = [c.choices[0].delta.content or "" for c in chunks if c.choices]
    assert "".join(pieces) == text
    assert len([p for p in pieces if p]) == 11
    finishes = [c.choices[0].finish_reason for c in chunks if c.choices and c.choices[0].finish_reason]
    assert finishes == ["stop"]
    assert chunks[-1].choices == [] and chunks[-1].usage is not None
    assert chunks[-1].usage.completion_tokens == 14
    assert server.requests[0]["stream"] is True


def test_tool_call_answer_has_parsed_arguments(server: ScriptedModelServer) -> None:
    server.push(Reply(tool_calls=[{"name": "lookup_order", "arguments": {"order": "1042"}}]))
    answer = client(server).chat.completions.create(model="m", messages=USER, tools=[LOOKUP])
    choice = answer.choices[0]
    assert choice.finish_reason == "tool_calls"
    assert choice.message.content is None
    assert choice.message.tool_calls is not None and len(choice.message.tool_calls) == 1
    call = choice.message.tool_calls[0]
    assert call.type == "function" and call.id.startswith("call_")
    assert call.function.name == "lookup_order"
    assert json.loads(call.function.arguments) == {"order": "1042"}
    assert answer.usage is not None
    assert answer.usage.prompt_tokens == -(-(24 + len(json.dumps([LOOKUP]))) // 4)


def test_streamed_tool_calls_reassemble(server: ScriptedModelServer) -> None:
    server.push(
        Reply(
            text="Checking.",
            tool_calls=[
                {"name": "lookup_order", "arguments": {"order": "1042", "note": "customer asks about delivery"}},
                {"name": "lookup_order", "arguments": {"order": "1043"}},
            ],
            chunk_chars=4,
        )
    )
    stream = client(server).chat.completions.create(model="m", messages=USER, tools=[LOOKUP], stream=True)
    text = ""
    calls: dict[int, dict[str, str]] = {}
    finish = None
    for chunk in stream:
        delta = chunk.choices[0].delta
        text += delta.content or ""
        for piece in delta.tool_calls or []:
            call = calls.setdefault(piece.index, {"id": "", "name": "", "arguments": ""})
            call["id"] += piece.id or ""
            if piece.function is not None:
                call["name"] += piece.function.name or ""
                call["arguments"] += piece.function.arguments or ""
        finish = chunk.choices[0].finish_reason or finish
    assert text == "Checking."
    assert finish == "tool_calls"
    assert [c["name"] for c in calls.values()] == ["lookup_order", "lookup_order"]
    assert json.loads(calls[0]["arguments"]) == {"order": "1042", "note": "customer asks about delivery"}
    assert json.loads(calls[1]["arguments"]) == {"order": "1043"}
    assert calls[0]["id"].startswith("call_") and calls[0]["id"] != calls[1]["id"]


def test_malformed_tool_arguments_arrive_verbatim(server: ScriptedModelServer) -> None:
    server.push(Reply(tool_calls=[{"name": "lookup_order", "arguments": '{"order": "1042"'}]))
    answer = client(server).chat.completions.create(model="m", messages=USER, tools=[LOOKUP])
    calls = answer.choices[0].message.tool_calls
    assert calls is not None and calls[0].type == "function"
    assert calls[0].function.arguments == '{"order": "1042"'


def test_rate_limit_carries_retry_after(server: ScriptedModelServer) -> None:
    server.push(Reply(status=429, retry_after=3, text="Slow down."))
    with pytest.raises(openai.RateLimitError) as caught:
        client(server).chat.completions.create(model="m", messages=USER)
    assert caught.value.response.headers["retry-after"] == "3"
    assert caught.value.status_code == 429
    assert caught.value.code == "rate_limit_exceeded"
    assert "Slow down." in caught.value.message


def test_server_error_raises(server: ScriptedModelServer) -> None:
    server.push(Reply(status=500))
    with pytest.raises(openai.InternalServerError):
        client(server).chat.completions.create(model="m", messages=USER)


def test_hang_longer_than_the_timeout_times_out(server: ScriptedModelServer) -> None:
    server.push(Reply(text="too late", hang=2), "next")
    started = time.monotonic()
    with pytest.raises(openai.APITimeoutError):
        client(server, timeout=0.5).chat.completions.create(model="m", messages=USER)
    assert time.monotonic() - started < 1.5
    # the hanging answer does not hold up the next request
    answer = client(server).chat.completions.create(model="m", messages=USER)
    assert answer.choices[0].message.content == "next"


def test_responder_sees_the_request(server: ScriptedModelServer) -> None:
    def echo(request: dict[str, Any]) -> str:
        return f"{system_text(request)} | {last_user_text(request)} | {request['model']}"

    server.set_responder(echo)
    messages: list[ChatCompletionMessageParam] = [
        {"role": "system", "content": "You are the shop assistant."},
        {"role": "user", "content": "first"},
        {"role": "assistant", "content": "ok"},
        {"role": "user", "content": [{"type": "text", "text": "second"}]},
    ]
    answer = client(server).chat.completions.create(model="echo", messages=messages)
    assert answer.choices[0].message.content == "You are the shop assistant. | second | echo"


def test_queue_comes_before_responder_and_exhaustion_is_an_error() -> None:
    with ScriptedModelServer(lambda request: Reply(text="from responder")) as server:
        server.push("queued")
        openai_client = client(server)
        first = openai_client.chat.completions.create(model="m", messages=USER)
        second = openai_client.chat.completions.create(model="m", messages=USER)
        assert [first.choices[0].message.content, second.choices[0].message.content] == ["queued", "from responder"]
        server.set_responder(None)
        with pytest.raises(openai.InternalServerError) as caught:
            openai_client.chat.completions.create(model="m", messages=USER)
        assert "script exhausted" in caught.value.message
        assert server.calls == 3


def test_script_in_constructor_and_request_records() -> None:
    with ScriptedModelServer(["one", Reply(text="two")]) as server:
        openai_client = client(server)
        for text in ("a", "b"):
            openai_client.chat.completions.create(model="m", messages=[{"role": "user", "content": text}], temperature=0)
        assert [last_user_text(r) for r in server.requests] == ["a", "b"]
        assert server.requests[0]["temperature"] == 0 and server.requests[0]["model"] == "m"
        models = openai_client.models.list()
        assert "scripted" in [m.id for m in models.data] and "m" in [m.id for m in models.data]


def test_broken_json_body_is_a_400(server: ScriptedModelServer) -> None:
    url = f"{server.base_url}/chat/completions"
    response = httpx.post(url, content=b"{not json", headers={"content-type": "application/json"})
    assert response.status_code == 400
    assert response.json()["error"]["type"] == "invalid_request_error"
    assert server.calls == 0


def test_async_client(server: ScriptedModelServer) -> None:
    server.push("plain", Reply(text="streamed answer", chunk_chars=3))

    async def run() -> tuple[str | None, str]:
        async with openai.AsyncOpenAI(api_key="test", base_url=server.base_url, max_retries=0, timeout=5) as async_client:
            plain = await async_client.chat.completions.create(model="m", messages=USER)
            stream = await async_client.chat.completions.create(model="m", messages=USER, stream=True)
            text = "".join([chunk.choices[0].delta.content or "" async for chunk in stream if chunk.choices])
            return plain.choices[0].message.content, text

    assert asyncio.run(run()) == ("plain", "streamed answer")
