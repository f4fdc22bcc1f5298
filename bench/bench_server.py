"""Load on the running server: simulated customers chat through the HTTP API on 127.0.0.1,
each opening a conversation and sending messages one after another (verify and track an
order, ask a policy question, small talk) for a fixed time. Reports throughput, median and
p95 latency per message and the error count, first with the offline brain, then with the
LLM brain against the scripted model server (answering instantly). The baseline, measured in
the same run, is GET /healthz under the same load: the HTTP stack with no work behind it.

    python bench/bench_server.py [--customers 50] [--seconds 60]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from _stats import p95  # noqa: E402

SCRIPTED_MODEL = """
import sys, time
sys.path.insert(0, {root!r})
from evals.scripted_model import Reply, ScriptedModelServer
server = ScriptedModelServer(lambda request: Reply("Thanks for your message. Your order is in our system and on its way."))
server.start()
print(server.base_url, flush=True)
while True:
    time.sleep(3600)
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_server(data_dir: Path, env_extra: dict[str, str]) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    env = {
        **os.environ,
        "HELLOWORD_DATA_DIR": str(data_dir),
        "HELLOWORD_CACHE_DIR": str(ROOT / ".cache" / "models"),
        "HELLOWORD_RATE_LIMIT_PER_IP": "0",
        "HELLOWORD_RATE_LIMIT_PER_CONVERSATION": "0",
        **env_extra,
    }
    env.pop("HELLOWORD_DATABASE_URL", None)
    process = subprocess.Popen(
        [sys.executable, "-m", "cli", "serve", "--demo", "--port", str(port)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 600
    while time.monotonic() < deadline:
        try:
            if httpx.get(url + "/readyz", timeout=2).status_code == 200:
                return process, url
        except httpx.HTTPError:
            time.sleep(1)
    process.kill()
    raise RuntimeError("the server did not start")


async def customer(client: httpx.AsyncClient, url: str, who: dict[str, str], until: float, out: dict[str, Any]) -> None:
    messages = [
        f"Hello, where is my order {who['order_id']}? My email is {who['email']}",
        "When will it arrive?",
        "What is your return policy?",
        "Thank you!",
    ]
    while time.monotonic() < until:
        try:
            opened = await client.post(url + "/api/conversations", json={"locale": "en"})
            opened.raise_for_status()
            conversation = opened.json()
            headers = {"Authorization": f"Bearer {conversation['token']}"}
        except httpx.HTTPError:
            out["errors"] += 1
            continue
        for text in messages:
            if time.monotonic() >= until:
                return
            path = f"/api/conversations/{conversation['id']}/messages"
            await timed(out, client.post(url + path, json={"text": text}, headers=headers))


async def health_load(client: httpx.AsyncClient, url: str, until: float, out: dict[str, Any]) -> None:
    while time.monotonic() < until:
        await timed(out, client.get(url + "/healthz"))


async def timed(out: dict[str, Any], request: Awaitable[httpx.Response]) -> None:
    """One request: its latency when it succeeds, an error otherwise."""
    started = time.perf_counter()
    try:
        ok = (await request).status_code == 200
    except httpx.HTTPError:
        ok = False
    if ok:
        out["latency"].append((time.perf_counter() - started) * 1000)
    else:
        out["errors"] += 1


async def run_load(
    url: str, people: list[dict[str, str]], customers: int, seconds: float, *, health: bool = False
) -> dict[str, Any]:
    out: dict[str, Any] = {"latency": [], "errors": 0}
    limits = httpx.Limits(max_connections=customers + 5)
    async with httpx.AsyncClient(timeout=120, limits=limits) as client:
        until = time.monotonic() + seconds
        if health:
            await asyncio.gather(*(health_load(client, url, until, out) for _ in range(customers)))
        else:
            await asyncio.gather(*(customer(client, url, people[i % len(people)], until, out) for i in range(customers)))
    out["seconds"] = seconds
    return out


def line(name: str, result: dict[str, Any], width: int = 44) -> str:
    """A table row: the load's name, requests a second, median and p95 latency, errors."""
    samples = result["latency"] or [0.0]
    rate = len(result["latency"]) / result["seconds"]
    return f"| {name:<{width}} | {rate:8.1f} | {statistics.median(samples):9.1f} | {p95(samples):9.1f} | {result['errors']:6d} |"


def prepare_shop(data: Path) -> None:
    """The demo shop and its knowledge base in a fresh data folder."""
    env = {**os.environ, "HELLOWORD_DATA_DIR": str(data)}
    env.pop("HELLOWORD_DATABASE_URL", None)
    subprocess.run([sys.executable, "-m", "cli", "demo-data"], cwd=ROOT, env=env, check=True, stdout=subprocess.DEVNULL)
    subprocess.run([sys.executable, "-m", "cli", "kb", "ingest"], cwd=ROOT, env=env, check=True, stdout=subprocess.DEVNULL)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--customers", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=60)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp)
        prepare_shop(data)
        model = subprocess.Popen([sys.executable, "-c", SCRIPTED_MODEL.format(root=str(ROOT))], stdout=subprocess.PIPE, cwd=ROOT)
        assert model.stdout is not None
        model_url = model.stdout.readline().decode().strip()
        rows = []
        try:
            for name, extra in (
                ("offline brain", {"HELLOWORD_BRAIN": "offline"}),
                ("LLM brain, scripted model", {"HELLOWORD_LLM_BASE_URL": model_url, "HELLOWORD_LLM_API_KEY": "bench"}),
            ):
                server, url = start_server(data, extra)
                try:
                    people = httpx.get(url + "/api/demo/customers", timeout=30).json()
                    asyncio.run(run_load(url, people, 2, 5))  # warm-up
                    baseline = asyncio.run(run_load(url, people, args.customers, min(10.0, args.seconds), health=True))
                    result = asyncio.run(run_load(url, people, args.customers, args.seconds))
                    rows.append((name, baseline, result))
                finally:
                    server.terminate()
                    server.wait(timeout=30)
        finally:
            model.terminate()
        print(f"{args.customers} simulated customers for {args.seconds:.0f} s against the server on 127.0.0.1 (one process)\n")
        print("| load                                         | req/s    | median ms | p95 ms    | errors |")
        print("|----------------------------------------------|----------|-----------|-----------|--------|")
        for name, baseline, result in rows:
            print(line(f"baseline: GET /healthz ({name})", baseline))
            print(line(f"customer messages, {name}", result))


if __name__ == "__main__":
    main()
