"""Long messages from one address against everyone else: simulated customers chat through the
HTTP API on 127.0.0.1 for a fixed time, first alone (the baseline, in the same run), then while
one address sends 4,000-character messages as fast as it is answered. Reports the customers'
throughput, median and p95 latency in both runs, their ratio, and what the long messages got
(answered or refused with 429 by the per-address budget of long messages).

    python bench/bench_abuse.py [--customers 10] [--seconds 30] [--abusers 4]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from bench_server import customer, line, prepare_shop, start_server  # noqa: E402

LONG = ("My parcel has not arrived yet and I would like to know what is going on with it. " * 60)[:4000]


async def abuser(client: httpx.AsyncClient, url: str, until: float, out: dict[str, Any]) -> None:
    """One address sending long messages, each in a new conversation, as fast as it can."""
    while time.monotonic() < until:
        try:
            opened = (await client.post(url + "/api/conversations", json={"locale": "en"})).json()
            headers = {"Authorization": f"Bearer {opened['token']}"}
            answer = await client.post(f"{url}/api/conversations/{opened['id']}/messages", json={"text": LONG}, headers=headers)
        except httpx.HTTPError:
            out["errors"] += 1
            continue
        out[answer.status_code] = out.get(answer.status_code, 0) + 1
        if answer.status_code == 429:
            await asyncio.sleep(float(answer.headers.get("retry-after", "1")))


async def run(url: str, people: list[dict[str, str]], customers: int, seconds: float, abusers: int) -> dict[str, Any]:
    out: dict[str, Any] = {"latency": [], "errors": 0, "seconds": seconds}
    abuse: dict[Any, int] = {"errors": 0}
    limits = httpx.Limits(max_connections=customers + abusers + 5)
    async with httpx.AsyncClient(timeout=120, limits=limits) as client:
        until = time.monotonic() + seconds
        await asyncio.gather(
            *(customer(client, url, people[i % len(people)], until, out) for i in range(customers)),
            *(abuser(client, url, until, abuse) for _ in range(abusers)),
        )
    out["abuse"] = abuse
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--customers", type=int, default=10)
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--abusers", type=int, default=4, help="concurrent senders of long messages from one address")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp)
        prepare_shop(data)
        server, url = start_server(data, {"HELLOWORD_BRAIN": "offline"})
        try:
            people = httpx.get(url + "/api/demo/customers", timeout=30).json()
            asyncio.run(run(url, people, 2, 5, 0))  # warm-up
            alone = asyncio.run(run(url, people, args.customers, args.seconds, 0))
            abused = asyncio.run(run(url, people, args.customers, args.seconds, args.abusers))
        finally:
            server.terminate()
            server.wait(timeout=30)
    ratio = (len(abused["latency"]) / max(1, len(alone["latency"]))) if alone["latency"] else 0.0
    answered = abused["abuse"].get(200, 0)
    refused = abused["abuse"].get(429, 0)
    print(f"{args.customers} customers for {args.seconds:.0f} s on 127.0.0.1 (one process), offline brain\n")
    print("| load                                     | msgs/s   | median ms | p95 ms    | errors |")
    print("|------------------------------------------|----------|-----------|-----------|--------|")
    print(line("baseline: customers alone", alone, width=40))
    print(line(f"customers + {args.abusers} long-message senders", abused, width=40))
    print(f"\ncustomers' throughput with the long messages: {ratio:.0%} of the baseline")
    print(f"long messages (4,000 characters): {answered} answered, {refused} refused with 429 (budget per address)")


if __name__ == "__main__":
    main()
