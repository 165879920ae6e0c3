"""Listening sockets for the long-running commands: the public webhook port, the metrics port
(with the queue gauges refreshed in the background), HTTPS when tls.crt/tls.key are present."""

from __future__ import annotations

import logging
import ssl
from dataclasses import dataclass, field

from aiohttp import web

from aiops.bootstrap import Runtime
from aiops.tls import server_ssl_context
from app.observability import QueueSampler

log = logging.getLogger("aiops")


async def start_site(app: web.Application, *, port: int, ssl_context: ssl.SSLContext | None) -> web.AppRunner:
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    try:
        await web.TCPSite(runner, "0.0.0.0", port, ssl_context=ssl_context).start()  # noqa: S104 (in-cluster)
    except BaseException:
        await runner.cleanup()
        raise
    return runner


@dataclass
class Listeners:
    """What `serve` / `worker` listen on; `close()` stops all of it."""

    runners: list[web.AppRunner] = field(default_factory=list)
    sampler: QueueSampler | None = None

    async def close(self) -> None:
        if self.sampler is not None:
            await self.sampler.stop()
        for runner in reversed(self.runners):
            await runner.cleanup()


async def open_listeners(runtime: Runtime, *, public: bool) -> Listeners:
    """Metrics port always; the public webhook port when `public` (serve, not worker)."""
    settings = runtime.settings
    tls = server_ssl_context(settings.secrets_dir)
    scheme = "https" if tls else "http"
    out = Listeners()
    try:
        metrics_app = runtime.metrics_app(worker=not public)
        try:
            out.runners.append(await start_site(metrics_app, port=settings.metrics_port, ssl_context=tls))
            log.info("metrics on %s://:%d/metrics", scheme, settings.metrics_port)
        except OSError as exc:  # several processes on one host (dev, tests): serve without metrics
            log.error("metrics port %d unavailable (%s): /metrics not served", settings.metrics_port, exc)
        if public:
            out.runners.append(await start_site(runtime.web_app(), port=settings.http_port, ssl_context=tls))
            log.info(
                "listening on %s://:%d (embedded: %s)",
                scheme,
                settings.http_port,
                ", ".join(runtime.stores.embedded) or "none",
            )
        out.sampler = QueueSampler(
            redis=runtime.stores.redis, prefix=settings.redis_prefix, metrics=runtime.metrics
        )
        out.sampler.start()
    except BaseException:
        await out.close()
        raise
    return out
