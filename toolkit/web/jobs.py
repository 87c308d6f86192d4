"""Work that takes longer than a page load (reading an inbox, merging) runs in a thread; the page polls
its progress (`done` of `total`, reported by the same callback the CLI's progress bar gets) and then
shows its result or its error. A UsageProblem is said as it is; anything else as an internal error."""

from __future__ import annotations

import secrets
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from toolkit.core.errors import UsageProblem

Work = Callable[[Callable[[int, int], None]], Any]
KEEP = 50  # finished jobs remembered (their results are shown once, then may be asked again on reload)


@dataclass
class Job:
    label: str
    template: str  # renders the result
    context: Callable[[Any], dict[str, Any]]  # result -> template context
    id: str = field(default_factory=lambda: secrets.token_urlsafe(12))
    done: int = 0
    total: int = 0
    result: Any = None
    error: str | None = None
    finished: threading.Event = field(default_factory=threading.Event)

    def progress(self, done: int, total: int) -> None:
        self.done, self.total = done, total


class Jobs:
    def __init__(self) -> None:
        self._jobs: dict[str, Job] = {}
        self._lock = threading.Lock()

    def start(self, label: str, work: Work, template: str, context: Callable[[Any], dict[str, Any]]) -> Job:
        job = Job(label, template, context)
        with self._lock:
            self._jobs[job.id] = job
            for old in [k for k, j in self._jobs.items() if j.finished.is_set()][:-KEEP]:
                del self._jobs[old]
        threading.Thread(target=self._run, args=(job, work), name=f"brandkit-web-{label}", daemon=True).start()
        return job

    def get(self, job_id: str) -> Job | None:
        with self._lock:
            return self._jobs.get(job_id)

    @staticmethod
    def _run(job: Job, work: Work) -> None:
        try:
            job.result = work(job.progress)
        except UsageProblem as exc:
            job.error = str(exc)
        except Exception as exc:  # noqa: BLE001 - said on the page, the server goes on
            job.error = f"内部错误：{type(exc).__name__}: {exc}。请把此信息发给维护人员。"
        finally:
            job.finished.set()
