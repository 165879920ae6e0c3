"""Process logging for the long-running commands: every line through a filter that masks the
loaded secret values (and learns rotated ones), the job's ids on every line of a job, text or
JSON lines (`AIOPS_LOG_FORMAT`)."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Iterable

from app.config import SECRET_NAMES, AbsentSecret, Secrets, Settings
from app.secrets_watch import SecretsWatcher


class SecretMaskFilter(logging.Filter):
    """Replaces any loaded secret value in a log record's final text with ***."""

    def __init__(self, values: Iterable[str]) -> None:
        super().__init__()
        self._values = sorted({v for v in values if len(v) >= 6}, key=len, reverse=True)

    def add(self, value: str) -> None:
        """Learn a rotated secret (the old value stays masked too)."""
        if len(value) >= 6 and value not in self._values:
            self._values = sorted({*self._values, value}, key=len, reverse=True)

    def filter(self, record: logging.LogRecord) -> bool:
        if not self._values:
            return True
        text = record.getMessage()
        masked = text
        for v in self._values:
            masked = masked.replace(v, "***")
        if record.exc_info and record.exc_text is None:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        exc_text = record.exc_text or ""
        for v in self._values:
            exc_text = exc_text.replace(v, "***")
        if masked != text:
            record.msg, record.args = masked, None
        if record.exc_text is not None:
            record.exc_text, record.exc_info = exc_text, None
        return True


def secret_values(secrets: Secrets) -> list[str]:
    out = []
    for name in SECRET_NAMES:
        value = getattr(secrets, name, None)
        if value is not None and not isinstance(value, AbsentSecret):
            out.append(value.get_secret_value())
    return out


def setup_logging(secrets: Secrets | None, level: str = "INFO", fmt: str = "text") -> SecretMaskFilter:
    """stderr logging: secrets masked, job ids on every line of a job, text or JSON lines."""
    from app.logctx import JobContextFilter, JsonFormatter, TextFormatter

    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter() if fmt == "json" else TextFormatter())
    mask = SecretMaskFilter(secret_values(secrets) if secrets is not None else [])
    handler.addFilter(mask)
    handler.addFilter(JobContextFilter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # pgserver narrates initdb/pg_ctl at INFO; keep start-up output readable.
    logging.getLogger("pgserver").setLevel(max(logging.WARNING, root.level))
    return mask


def secrets_watcher(args: argparse.Namespace, settings: Settings) -> SecretsWatcher:
    """Secret files re-read every second (serve, worker); the log masking learns new values."""
    watcher = SecretsWatcher(settings.secrets_dir, SECRET_NAMES)
    mask: SecretMaskFilter | None = getattr(args, "log_mask", None)
    if mask is not None:
        watcher.subscribe(lambda _name, value: mask.add(value))
    watcher.start()
    return watcher
