"""Async edge over prometheus-api-client: the only place a blocking HTTP call to Prometheus runs.

Each call runs in `asyncio.to_thread`. Errors become `BackendError` naming the exact query and
the server's own error text (Prometheus answers `{"status":"error","error":"…"}`); transport
errors name only the exception type — never the URL, which may carry credentials.
"""

from __future__ import annotations

import ast
import asyncio
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar

import requests
from prometheus_api_client import PrometheusConnect
from prometheus_api_client.exceptions import PrometheusApiClientException
from urllib3.util.retry import Retry

from kernel.errors import BackendError
from tools.prometheus import messages

DEFAULT_TIMEOUT_S = 15.0
T = TypeVar("T")


@dataclass(frozen=True)
class QueryResult:
    result_type: str
    """"vector", "matrix", "scalar" or "string" (from the shape of `data.result`)."""
    result: Any


class PrometheusClient:
    def __init__(
        self, *, url: str, timeout_s: float = DEFAULT_TIMEOUT_S, session: requests.Session | None = None
    ) -> None:
        self._url = url.rstrip("/")
        self._timeout_s = timeout_s
        self._session = session or requests.Session()
        # One retry for connection resets only; a 4xx/5xx is the answer, not a transient.
        self._prom = PrometheusConnect(
            url=self._url, session=self._session, retry=Retry(total=1, status_forcelist=[]), timeout=timeout_s
        )

    async def query(self, promql: str, *, at: float | None = None) -> QueryResult:
        params = self._server_timeout() | ({} if at is None else {"time": f"{at:.3f}"})
        raw = await self._call(promql, lambda: self._prom.custom_query(promql, params=params))
        return QueryResult(_result_type(raw), raw)

    async def query_range(self, promql: str, *, start: float, end: float, step_s: float) -> list[Any]:
        # custom_query_range takes datetimes and rounds them to whole seconds, which is all we need.
        start_dt = datetime.fromtimestamp(start, UTC)
        end_dt = datetime.fromtimestamp(end, UTC)
        step, params = f"{step_s:g}", self._server_timeout()
        raw = await self._call(
            promql, lambda: self._prom.custom_query_range(promql, start_dt, end_dt, step=step, params=params)
        )
        return list(raw or [])

    async def alerts(self) -> list[dict[str, Any]]:
        """All active (pending and firing) alerts from `/api/v1/alerts`, unfiltered."""

        def get() -> list[dict[str, Any]]:
            resp = self._session.get(f"{self._url}/api/v1/alerts", timeout=self._timeout_s)
            if resp.status_code != 200:
                raise PrometheusApiClientException(f"HTTP Status Code {resp.status_code} ({resp.content!r})")
            return list(resp.json()["data"]["alerts"])

        return await self._call("/api/v1/alerts", get)

    def _server_timeout(self) -> dict[str, str]:
        """Prometheus stops evaluating when we stop waiting (an expensive query must not run on)."""
        return {"timeout": f"{self._timeout_s:g}s"}

    def close(self) -> None:
        self._session.close()

    async def _call(self, what: str, fn: Callable[[], T]) -> T:
        try:
            return await asyncio.to_thread(fn)
        except PrometheusApiClientException as exc:
            error = server_error(str(exc))
            raise BackendError(messages.BACKEND_ERROR.format(query=what, error=error)) from exc
        except (requests.RequestException, ValueError, KeyError) as exc:
            raise BackendError(
                messages.BACKEND_UNREACHABLE.format(query=what, error=type(exc).__name__)
            ) from exc


def server_error(message: str) -> str:
    """Prometheus's `error` text out of prometheus-api-client's "HTTP Status Code N (b'…')"."""
    status, _, rest = message.partition(" (")
    try:
        body = ast.literal_eval(rest.removesuffix(")"))
        payload = json.loads(body)
        return f"{payload.get('errorType', 'error')}: {payload['error']}"[:1000]
    except (ValueError, SyntaxError, TypeError, KeyError, AttributeError):
        return status[:200]


def _result_type(raw: Any) -> str:
    if isinstance(raw, list) and raw and isinstance(raw[0], dict):
        return "matrix" if "values" in raw[0] else "vector"
    if isinstance(raw, list) and len(raw) == 2 and not isinstance(raw[0], dict):
        try:
            float(raw[1])
        except (TypeError, ValueError):
            return "string"
        return "scalar"
    return "vector"
