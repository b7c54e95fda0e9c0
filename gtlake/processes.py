"""Worker processes that never outlive the run, and SIGTERM as a clean stop.

`worker_pool` is a process pool whose workers die with the process that started them: on Linux
each worker asks the kernel for SIGKILL when its parent dies (`prctl(PR_SET_PDEATHSIG)`), and on
every platform a watchdog thread in each worker exits it once its parent is gone (the parent id
changes). Workers ignore SIGINT (a Ctrl-C reaches the whole process group): the parent decides.
When the parent stops with any exception (an error, Ctrl-C, SIGTERM through `sigterm_raises`), the
pool's workers are killed at once instead of finishing their jobs.
"""

from __future__ import annotations

import ctypes
import multiprocessing
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from multiprocessing.context import BaseContext
from types import FrameType
from typing import Any

PR_SET_PDEATHSIG = 1  # <linux/prctl.h>
WATCH_INTERVAL_S = 0.5


class Terminated(BaseException):
    """The process was asked to stop (SIGTERM). Like KeyboardInterrupt it is no `Exception`, so
    nothing on the way up mistakes it for an error of a job; unlike it, nothing turns it into
    another exception (click makes Ctrl-C an `Abort`)."""

    def __init__(self, signum: int) -> None:
        self.signum = signum
        super().__init__(f"terminated by {signal.Signals(signum).name}")


def _raise_terminated(signum: int, frame: FrameType | None) -> None:
    raise Terminated(signum)


@contextmanager
def sigterm_raises() -> Iterator[None]:
    """Within the block SIGTERM raises `Terminated` in the main thread (so `finally` blocks and
    the pool's clean-up run); the previous handler is restored afterwards."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGTERM, _raise_terminated)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def lean_memory() -> None:
    """Arrow's allocations from the C library's `malloc` instead of mimalloc (pyarrow's default),
    unless `ARROW_DEFAULT_MEMORY_POOL` chooses: mimalloc keeps freed pages for each thread, which
    raised an ingest worker's peak RSS by about 60 MB (the bench tree: 1,025 MiB summed over the
    processes against 910 MiB). Set in gtlake's own processes (the CLI, its workers), not on
    import: a program that imports gtlake keeps its own choice."""
    if "ARROW_DEFAULT_MEMORY_POOL" not in os.environ:
        import pyarrow as pa

        pa.set_memory_pool(pa.system_memory_pool())


def _start_worker(parent: int, initializer: Callable[..., Any] | None, initargs: tuple) -> None:
    """Run in each worker as it starts."""
    _die_with_parent(parent)
    lean_memory()
    if initializer is not None:
        initializer(*initargs)


def _die_with_parent(parent: int) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if sys.platform.startswith("linux"):
        try:
            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        except (OSError, AttributeError):  # pragma: no cover - no prctl: the watchdog remains
            pass
    if os.getppid() != parent:  # the parent died before the request took effect
        os._exit(1)
    threading.Thread(target=_watch, args=(parent,), name="gtlake-parent", daemon=True).start()


def _watch(parent: int) -> None:
    while os.getppid() == parent:
        time.sleep(WATCH_INTERVAL_S)
    os._exit(1)


@contextmanager
def worker_pool(
    workers: int,
    context: BaseContext | None = None,
    initializer: Callable[..., Any] | None = None,
    initargs: tuple = (),
) -> Iterator[ProcessPoolExecutor]:
    """A process pool (spawn context unless given) whose workers die with this process, each
    running `initializer(*initargs)` first; leaving the block with an exception kills them
    (pending jobs are cancelled) instead of waiting for them."""
    before = set(multiprocessing.active_children())
    pool = ProcessPoolExecutor(
        workers,
        mp_context=context or multiprocessing.get_context("spawn"),
        initializer=_start_worker,
        initargs=(os.getpid(), initializer, initargs),
    )
    try:
        yield pool
    except BaseException:
        pool.shutdown(wait=False, cancel_futures=True)
        for child in set(multiprocessing.active_children()) - before:
            child.kill()
        raise
    pool.shutdown(wait=True)
