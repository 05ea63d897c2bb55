"""The server process seen from outside: resident memory and CPU of its process tree."""

from __future__ import annotations

import asyncio
import contextlib

import psutil

MB = 1024 * 1024


class ServerMonitor:
    """Samples the RSS of ``pid`` and all its descendants every ``interval`` seconds."""

    def __init__(self, pid: int, interval: float = 0.2) -> None:
        self.pid = pid
        self._root = psutil.Process(pid)  # NoSuchProcess here: a wrong --server-pid
        self._interval = interval
        self.peak = 0
        self.phase_peak = 0
        self.last = 0
        self.samples = 0
        self.lost: str | None = None
        self._task: asyncio.Task[None] | None = None

    def _tree(self) -> list[psutil.Process]:
        return [self._root, *self._root.children(recursive=True)]

    def sample(self) -> int:
        total = 0
        for process in self._tree():
            with contextlib.suppress(psutil.NoSuchProcess):  # a child that just exited
                total += process.memory_info().rss
        self.last, self.samples = total, self.samples + 1
        self.peak, self.phase_peak = max(self.peak, total), max(self.phase_peak, total)
        return total

    def cpu_seconds(self) -> float:
        total = 0.0
        for process in self._tree():
            with contextlib.suppress(psutil.NoSuchProcess):
                times = process.cpu_times()
                total += times.user + times.system
        return total

    def start(self) -> None:
        self.sample()
        self._task = asyncio.get_running_loop().create_task(self._run())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if self.lost is None:
            with contextlib.suppress(psutil.NoSuchProcess):
                self.sample()

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self._interval)
            try:
                self.sample()
            except psutil.NoSuchProcess:
                self.lost = f"server process {self.pid} ended during the run"
                return

    def report(self) -> dict[str, object]:
        return {
            "server_pid": self.pid,
            "scope": "RSS of the process and all its descendants",
            "peak_mb": round(self.peak / MB, 1),
            "final_mb": round(self.last / MB, 1),
            "samples": self.samples,
            "interval_s": self._interval,
            "lost": self.lost,
        }
