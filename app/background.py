"""Loops a worker runs beside its jobs until it stops (the scheduler, the change watcher)."""

from __future__ import annotations

import asyncio
from typing import Protocol


class Background(Protocol):
    async def run(self, stop: asyncio.Event) -> None:
        """Loop until `stop` is set; never raise for a passing outage."""


class Together:
    """Several background loops as one."""

    def __init__(self, *loops: Background) -> None:
        self._loops = loops

    async def run(self, stop: asyncio.Event) -> None:
        await asyncio.gather(*(loop.run(stop) for loop in self._loops))
