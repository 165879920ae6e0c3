"""Secret files re-read when they change on disk, so a rotation needs no restart.

Kubelet (projected Secret volumes) and Vault Agent rotate a secret by swapping the file
(kubelet: an atomic `..data` symlink flip), so each file is simply read again every
`interval_s` and compared with the value in use. On a change every subscriber is called
with (name, new value or None when the file disappeared): the composition root points the
Slack client, the Anthropic client and the signature check at the new value, and the log
masking learns it before anything could log it.

A file that disappears or is emptied keeps the last good value (a half-finished rotation
must not take the bot down); the next good content replaces it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Iterable
from pathlib import Path

log = logging.getLogger(__name__)

Subscriber = Callable[[str, str], None]
DEFAULT_INTERVAL_S = 1.0


class SecretsWatcher:
    def __init__(self, secrets_dir: Path, names: Iterable[str], *, interval_s: float = DEFAULT_INTERVAL_S):
        self._dir = secrets_dir
        self._interval = interval_s
        self._values: dict[str, str | None] = {name: self._read(name) for name in names}
        self._subscribers: list[tuple[str | None, Subscriber]] = []
        self._task: asyncio.Task[None] | None = None

    def value(self, name: str) -> str | None:
        return self._values.get(name)

    def values(self) -> list[str]:
        return [v for v in self._values.values() if v]

    def subscribe(self, callback: Subscriber, name: str | None = None) -> None:
        """`callback(name, value)` after `name` (or any secret, when None) changes."""
        self._subscribers.append((name, callback))

    def _read(self, name: str) -> str | None:
        try:
            return (self._dir / name).read_text(encoding="utf-8").strip() or None
        except (OSError, UnicodeDecodeError):
            return None

    def _read_all(self) -> dict[str, str | None]:
        return {name: self._read(name) for name in self._values}

    def check(self) -> list[str]:
        """Read every file once; notify and return the names whose value changed."""
        return self._apply(self._read_all())

    def _apply(self, reads: dict[str, str | None]) -> list[str]:
        changed = []
        for name, new in reads.items():
            if new is None or new == self._values.get(name):
                continue
            self._values[name] = new
            changed.append(name)
            for wanted, callback in self._subscribers:
                if wanted in (None, name):
                    try:
                        callback(name, new)
                    except Exception as exc:  # one bad subscriber must not block the others
                        log.error("applying rotated secret %s failed (%s)", name, type(exc).__name__)
        if changed:
            log.info("secrets rotated: %s", ", ".join(changed))  # names only, never values
        return changed

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run())

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self._interval)
            self._apply(await asyncio.to_thread(self._read_all))  # read off the loop, apply on it

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
