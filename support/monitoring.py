"""The monitoring loop: an exception scan, then the playbook of each new flag, on demand (the
`helloword monitor run` command) or every few seconds in the background of the server."""

from __future__ import annotations

import datetime as dt
import logging
import threading
from collections.abc import Callable
from typing import Any

from agent.policy import PolicyProfile
from commerce.db import Store
from commerce.monitor import MonitorRules, ScanResult, scan
from support.playbooks import Notify, run_playbooks

log = logging.getLogger("helloword.monitor")


def scan_and_act(
    store: Store,
    rules: MonitorRules,
    now: dt.datetime,
    profile: PolicyProfile | None,
    *,
    incremental: bool = True,
    playbooks: bool = True,
    notify: Notify | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> ScanResult:
    """Scan for exceptions and, unless `playbooks` is false, run the playbook of each new flag."""
    result = scan(store, rules, now, incremental=incremental, progress=progress)
    if playbooks and result.flags:
        result.playbooks_run = run_playbooks(store, list(result.flags), now, profile, notify=notify)
    return result


class MonitorLoop:
    """Runs `tick` every `interval` seconds on a background thread until stopped; a failed tick
    is logged and the next one tries again."""

    def __init__(self, interval: float, tick: Callable[[], Any]) -> None:
        self.interval = interval
        self.tick = tick
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        if self.interval <= 0 or self._thread is not None:
            return

        def loop() -> None:
            while not self._stop.wait(self.interval):
                try:
                    self.tick()
                except Exception:  # logged; the loop goes on
                    log.exception("exception scan failed")

        self._thread = threading.Thread(target=loop, name="helloword-monitor", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
