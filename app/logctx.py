"""Log context for a job, and the JSON log format (`AIOPS_LOG_FORMAT=json`).

`job_context(job_id=…, audit_id=…, user_id=…)` sets context variables for the duration of one
job; asyncio copies the context into every task started inside it, so each line logged while
the job runs — worker, agent, router, Slack client — carries the same ids without passing
them around. `JobContextFilter` copies them onto every record (empty outside a job);
`JsonFormatter` prints one JSON object per line.
"""

from __future__ import annotations

import contextlib
import json
import logging
import time
from collections.abc import Iterator
from contextvars import ContextVar

from app.queue import Delivery
from app.worker import Worker

_JOB_ID: ContextVar[str | None] = ContextVar("aiops_job_id", default=None)
_AUDIT_ID: ContextVar[str | None] = ContextVar("aiops_audit_id", default=None)
_USER_ID: ContextVar[str | None] = ContextVar("aiops_user_id", default=None)

FIELDS = ("job_id", "audit_id", "user_id")


@contextlib.contextmanager
def job_context(*, job_id: str, audit_id: str | None, user_id: str | None) -> Iterator[None]:
    tokens = (_JOB_ID.set(job_id), _AUDIT_ID.set(audit_id), _USER_ID.set(user_id))
    try:
        yield
    finally:
        for var, token in zip((_JOB_ID, _AUDIT_ID, _USER_ID), tokens, strict=True):
            var.reset(token)


def delivery_context(d: Delivery) -> contextlib.AbstractContextManager[None]:
    """The job's ids for every line logged while the worker handles this delivery."""
    if d.job is None:
        return job_context(job_id=d.entry_id, audit_id=None, user_id=None)
    return job_context(job_id=d.job.job_id, audit_id=str(d.job.audit_id), user_id=d.job.user_id)


class JobContextFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.job_id = _JOB_ID.get()
        record.audit_id = _AUDIT_ID.get()
        record.user_id = _USER_ID.get()
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line: ts, level, logger, message, the job fields, and exc."""

    def format(self, record: logging.LogRecord) -> str:
        out: dict[str, object] = {
            "ts": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
            + f".{int(record.msecs):03d}Z",
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for name in FIELDS:
            value = getattr(record, name, None)
            if value is not None:
                out[name] = value
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            out["exc"] = record.exc_text
        return json.dumps(out, ensure_ascii=False)


class TextFormatter(logging.Formatter):
    """The plain format, with the job fields appended when a job is running."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s: %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        extra = " ".join(f"{n}={getattr(record, n)}" for n in FIELDS if getattr(record, n, None))
        return f"{line} [{extra}]" if extra else line


class JobLoggingWorker(Worker):
    """The worker, with the job's ids bound for every line logged while it handles a delivery
    (tasks it starts inherit them)."""

    async def _run_one(self, d: Delivery) -> None:
        with delivery_context(d):
            await super()._run_one(d)
