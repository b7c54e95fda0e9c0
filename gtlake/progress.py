"""How `gtlake ingest` shows its progress: rich bars on a terminal, one log line per job otherwise.

On a terminal (standard error is one) a rich display shows the jobs done, the lines read, the
manifest bytes read with their rate and the time left, and a bar for each job being read. Whatever
the output, every finished job is one `logging` record (logger `gtlake.ingest`, level INFO), which
`gtlake -v` shows above the bars on a terminal and which is printed as each job finishes when
standard error is a file or a pipe.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence

from rich.console import Console
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeRemainingColumn,
    TransferSpeedColumn,
)

log = logging.getLogger("gtlake.ingest")


def human_bytes(size: float) -> str:
    for unit in ("B", "kB", "MB", "GB"):
        if size < 1000 or unit == "GB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1000
    return f"{size:.1f} GB"


class IngestProgress:
    """Callbacks for `gtlake.ingest.ingest`: `start`, `job_bytes`, `job_done`; then `close`."""

    def __init__(self, console: Console | None = None) -> None:
        self.console = console
        self.bars: Progress | None = None
        self.total_jobs = self.done_jobs = self.lines = 0
        self.sizes: dict[str, int] = {}
        self.read: dict[str, int] = {}
        self.job_tasks: dict[str, TaskID] = {}
        self.finished: set[str] = set()
        self.lock = threading.Lock()
        self.overall: TaskID | None = None

    def start(self, jobs: Sequence) -> None:
        self.total_jobs = len(jobs)
        for job in jobs:
            manifest = job.manifest()[0]
            self.sizes[job.name] = manifest.size if manifest else 0
        log.debug("%d jobs to ingest, %s of manifests", len(jobs), human_bytes(self._total()))
        if self.console is None or not jobs:
            return
        self.bars = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            DownloadColumn(),
            TransferSpeedColumn(),
            TimeRemainingColumn(),
            console=self.console,
            transient=True,
        )
        self.overall = self.bars.add_task(self._summary(), total=self._total() or None)
        self.bars.start()

    def job_bytes(self, job: str, done: int, size: int) -> None:
        """Progress within a job's manifest (called from the ingest's relay thread too)."""
        with self.lock:
            if job in self.finished:
                return
            self.read[job] = done
            if self.bars is None:
                return
            if job not in self.job_tasks:
                self.job_tasks[job] = self.bars.add_task(f"  {job[:28]}", total=size or None)
            self.bars.update(self.job_tasks[job], completed=done)
            self.bars.update(self.overall, completed=sum(self.read.values()))

    def job_done(self, result) -> None:
        with self.lock:
            self.finished.add(result.job)
            self.done_jobs += 1
            self.lines += result.lines
            self.read[result.job] = self.sizes.get(result.job, result.bytes)
            if self.bars is not None:
                task = self.job_tasks.pop(result.job, None)
                if task is not None:
                    self.bars.remove_task(task)
                self.bars.update(
                    self.overall, completed=sum(self.read.values()), description=self._summary()
                )
        if result.error:
            log.info("job %s failed [%d/%d]", result.job, self.done_jobs, self.total_jobs)
            return
        log.info(
            "job %s: %d lines, %d quarantined, %s in %.1fs [%d/%d]",
            result.job,
            result.lines,
            result.quarantined,
            human_bytes(self.sizes.get(result.job, result.bytes)),
            result.seconds,
            self.done_jobs,
            self.total_jobs,
        )

    def close(self) -> None:
        if self.bars is not None:
            self.bars.stop()
            self.bars = None

    def _total(self) -> int:
        return sum(self.sizes.values())

    def _summary(self) -> str:
        return f"{self.done_jobs}/{self.total_jobs} jobs, {self.lines:,} lines"
