"""One long-lived asyncio event loop in a daemon thread, for synchronous callers (Celery tasks).

Async clients (httpx) bind their connections to the loop that opened them, so a process must
keep one loop for as long as it keeps the client: ``asyncio.run()`` per call closes the loop
under the client ("Event loop is closed"). Threads do not survive ``fork()``: a child process
must build its own ``LoopThread`` (callers key it on ``os.getpid()``).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import os
import threading
from collections.abc import Coroutine
from typing import Any, TypeVar

T = TypeVar("T")


class LoopThread:
    """An event loop running forever in its own daemon thread; ``run`` submits coroutines."""

    def __init__(self, name: str = "aioloop") -> None:
        self.pid = os.getpid()
        self.loop = asyncio.new_event_loop()
        self._started = threading.Event()
        self._thread = threading.Thread(target=self._main, name=name, daemon=True)
        self._thread.start()
        self._started.wait()

    def _main(self) -> None:
        asyncio.set_event_loop(self.loop)
        self.loop.call_soon(self._started.set)
        self.loop.run_forever()

    @property
    def alive(self) -> bool:
        return self.pid == os.getpid() and self._thread.is_alive() and not self.loop.is_closed()

    def run(self, coro: Coroutine[Any, Any, T], timeout_s: float | None = None) -> T:
        """Run ``coro`` on the loop and wait for it; on timeout cancel it and raise TimeoutError."""
        if threading.current_thread() is self._thread:
            coro.close()
            raise RuntimeError("LoopThread.run() called from its own loop: it would deadlock")
        if not self.alive:
            coro.close()
            raise RuntimeError("this LoopThread is stopped or belongs to another process")
        future = asyncio.run_coroutine_threadsafe(coro, self.loop)
        try:
            return future.result(timeout_s)
        except concurrent.futures.TimeoutError:
            future.cancel()
            raise TimeoutError(f"coroutine did not finish within {timeout_s} s") from None

    def stop(self, timeout_s: float = 5.0) -> None:
        """Stop the loop and join its thread (no-op in a forked child, which does not own it)."""
        if self.pid != os.getpid() or self.loop.is_closed():
            return
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(timeout_s)
        if not self._thread.is_alive():
            self.loop.close()
