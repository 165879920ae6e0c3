"""The lifecycle every HTTP simulator shares: one aiohttp app on 127.0.0.1, an ephemeral port,
`async with Sim() as sim:` → `sim.base_url`. Subclasses say what they serve (`build_app`) and
under which path their clients expect the API (`base_path`)."""

from __future__ import annotations

from typing import Self

from aiohttp import web


class LoopbackServer:
    base_path = ""
    """Appended to http://host:port to form `base_url` (e.g. "/v1" for OpenAI-style clients)."""

    def __init__(self, *, host: str = "127.0.0.1", port: int = 0) -> None:
        self._host, self._port = host, port
        self._runner: web.AppRunner | None = None
        self.base_url = ""

    def build_app(self) -> web.Application:
        raise NotImplementedError

    async def start(self) -> Self:
        self._runner = web.AppRunner(self.build_app(), handle_signals=False, access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, self._host, self._port).start()
        self.base_url = f"http://{self._host}:{self._runner.addresses[0][1]}{self.base_path}"
        return self

    async def close(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> Self:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.close()
