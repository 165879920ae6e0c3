"""PNG line graph of range-query series (matplotlib's Agg canvas: no display, no pyplot globals).

Rendering is CPU-bound and blocking: call `render_png_async` from the event loop.
"""

from __future__ import annotations

import asyncio
import io
from datetime import UTC, datetime
from typing import Any

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.dates import DateFormatter
from matplotlib.figure import Figure

from tools.prometheus.summarize import Series

MAX_LEGEND = 10
_LEGEND_KEYS = ("namespace", "pod", "container", "instance", "job")


def _plain(text: str) -> str:
    """Matplotlib treats `$…$` as math markup; label values and PromQL are plain text."""
    return text.replace("$", r"\$")


def legend_label(labels: dict[str, str]) -> str:
    """`namespace/pod` (or the first identifying labels), short enough for a legend."""
    parts = [labels[k] for k in _LEGEND_KEYS if k in labels][:2]
    if not parts:
        parts = [f"{k}={v}" for k, v in sorted(labels.items()) if k != "__name__"][:2]
    text = "/".join(parts) or labels.get("__name__", "value")
    return _plain(text if len(text) <= 60 else text[:57] + "…")


def render_png(series: list[Series], title: str) -> bytes:
    fig = Figure(figsize=(9, 4.5), dpi=100)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot(1, 1, 1)
    for i, s in enumerate(series):
        xs: Any = [datetime.fromtimestamp(ts, UTC) for ts, _ in s.points]
        ys = [float("nan") if v is None else v for _, v in s.points]
        ax.plot(xs, ys, linewidth=1.2, label=legend_label(s.labels) if i < MAX_LEGEND else None)
    ax.set_title(_plain(title if len(title) <= 90 else title[:87] + "…"), fontsize=9)
    ax.xaxis.set_major_formatter(DateFormatter("%H:%M", tz=UTC))  # type: ignore[no-untyped-call]
    ax.set_xlabel("UTC")
    ax.grid(True, alpha=0.3)
    if series:
        ax.legend(fontsize=7, loc="upper left")
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    return buf.getvalue()


async def render_png_async(series: list[Series], title: str) -> bytes:
    return await asyncio.to_thread(render_png, series, title)
