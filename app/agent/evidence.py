"""What the tool calls of one investigation read.

`describe_call` gives the compact descriptions for the answer's evidence line, built from the
model's tool *inputs* — PromQL strings and resource coordinates — never from tool results, so no
cluster content or metric values end up there.

`CallRecord` is the loop's record of one call (its number in this investigation, inputs, the
enforced PromQL the router reports, graphs, and the sanitized result the model saw): the cited
findings (app/agent/findings.py) are checked against these records only.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from app.agent.offline_format import unwrap
from tools.scope_filter import strings_of

_OPEN_TAG = re.compile(r'^<(?:tool_result|tool_error) name="[^"<>]*"')


def describe_call(name: str, args: dict[str, Any]) -> str:
    a = {k: v for k, v in args.items() if v not in (None, "", [], {})}
    ns = a.get("namespace")
    where = f" in {ns}" if ns else ""
    if name in ("prometheus_query", "prometheus_range_query"):
        return str(a.get("query", ""))
    if name == "k8s_list":
        sel = f" ({a['label_selector']})" if a.get("label_selector") else ""
        return f"{a.get('kind', '?')}{where}{sel}"
    if name == "k8s_get":
        return "/".join(str(x) for x in (a.get("kind"), ns, a.get("name")) if x)
    if name == "k8s_events":
        obj = f" for {a['involved_object']}" if a.get("involved_object") else ""
        return f"events{where}{obj}"
    if name == "k8s_pod_logs":
        return f"logs {ns}/{a.get('pod', '?')}" + (f"/{a['container']}" if a.get("container") else "")
    if name == "prometheus_alerts":
        return f"alerts{where}"
    if name == "analyze":
        return f"analyzers{where}"
    if name == "runbook_search":
        return f"runbooks: {a.get('query', '')}"
    return f"{name} {json.dumps(a, sort_keys=True)[:120]}"


def number_result(content: str, number: int) -> str:
    """The router's `<tool_result name="…">` tag with this call's number added (`call="N"`), so
    the model can cite it. The router escapes data, so the first tag is always the router's own."""
    return _OPEN_TAG.sub(lambda m: f'{m.group(0)} call="{number}"', content, count=1)


@dataclass
class CallRecord:
    number: int
    """1, 2, … in the order the model asked for the calls in this investigation."""
    name: str
    args: dict[str, Any]
    content: str
    """The router's sanitized, wrapped result (before any size cap)."""
    is_error: bool = False
    query_sent: str | None = None
    """The enforced PromQL the router sent (Prometheus tools), from the audit entry."""
    graphs: tuple[str, ...] = ()
    _strings: list[str] | None = field(default=None, repr=False)

    @property
    def label(self) -> str:
        return self.query_sent or describe_call(self.name, self.args)

    def data(self) -> Any:
        return unwrap(self.content)

    def strings(self) -> list[str]:
        """Every string value of the result, whitespace-collapsed (for checking quotes)."""
        if self._strings is None:
            self._strings = [squash(s) for s in strings_of(self.data(), keys=False)]
        return self._strings

    def contains(self, quote: str) -> bool:
        q = squash(quote)
        return bool(q) and any(q in s for s in self.strings())


def squash(text: str) -> str:
    return " ".join(text.split())
