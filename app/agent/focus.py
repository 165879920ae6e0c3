"""What a question (or an alert) is about, for offline mode: the namespaces, workloads and pods
it names. Deterministic and deliberately simple — offline mode has no model to read the question.

- A namespace is named explicitly (`namespace payments`, `payments namespace`, `ns/payments`,
  `-n payments`), or after `in`/`from`/`within` (`anything broken in payments?`), or is any word
  equal to a namespace we know of (the scope's, or one a finding is in).
- A workload or pod is the subject of a question (`why is checkout crashing?`, `what's wrong with
  orders`, `is ledger healthy?`, `pod/checkout-7d9f…`), or any word that names something a
  finding is about.
- An alert job is about its `namespace` label and its pod/deployment/… labels.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

NAME = r"[a-z0-9](?:[-a-z0-9.]{0,251}[a-z0-9])?"
_NS_LABEL = re.compile(r"[a-z0-9](?:[-a-z0-9]{0,61}[a-z0-9])?\Z")
_EXPLICIT_NS = [
    re.compile(rf"\bnamespaces?\s*[:=]?\s*['\"`]?(?P<x>{NAME})"),
    re.compile(rf"(?P<x>{NAME})['\"`]?\s+namespace\b"),
    re.compile(rf"(?:^|\s)(?:-n|--namespace[= ])\s*(?P<x>{NAME})"),
    re.compile(rf"\bns\s*[:=/]\s*(?P<x>{NAME})"),
]
_IN_NS = re.compile(rf"\b(?:in|from|within|inside)\s+(?:the\s+)?['\"`]?(?P<x>{NAME})")
_SUBJECT = [
    re.compile(
        rf"\b(?:why|how\s+come)\s+(?:is|are|does|do|did|was|were|has|have|isn'?t|aren'?t|doesn'?t)\s+"
        rf"(?:the\s+|my\s+|our\s+)?(?P<x>{NAME})"
    ),
    re.compile(
        rf"\bwhat(?:'s|\s+is|\s+was)\s+(?:wrong|going\s+on|happening|up)\s+with\s+(?:the\s+|my\s+|our\s+)?"
        rf"(?P<x>{NAME})"
    ),
    re.compile(
        rf"\bis\s+(?:the\s+|my\s+|our\s+)?(?P<x>{NAME})\s+(?:ok|okay|healthy|up|down|running|broken|"
        r"failing|crashing|alive|working|fine|ready)\b"
    ),
    re.compile(
        rf"\b(?P<x>{NAME})\s+(?:is|keeps|seems|looks|are)\s+(?:still\s+)?(?:down|crash\w*|fail\w*|"
        r"broken|slow|restart\w*|dead|unhealthy|error\w*|oom\w*|pending|stuck)\b"
    ),
    re.compile(
        rf"\b(?:check|about|investigate|debug|diagnose|status\s+of|logs?\s+(?:of|for)|look\s+at)\s+"
        rf"(?:the\s+|my\s+|our\s+)?(?P<x>{NAME})"
    ),
    re.compile(
        rf"\b(?:pod|pods|deployment|deploy|statefulset|sts|daemonset|job|service|svc|pvc)\s*[/ ]\s*"
        rf"(?P<x>{NAME})"
    ),
]
_WORD = re.compile(NAME)
STOPWORDS = frozenset(
    """a an the my our your their its it this that these those there here what which who why how when where
    is are was were be been being do does did done has have had not no yes ok okay and or but if then so
    any anything everything something nothing all some every each none other else more most
    wrong broken failing crashing crashed crash crashes down up slow stuck pending error errors failed
    fail failure failures issue issues problem problems happening going on with about in from within
    inside of for to at by on off me i we you they he she us them please can could would should will
    tell show check look see find get give list explain status health healthy unhealthy running
    restart restarting restarts oom oomkilled killed dead alive working fine ready now today currently
    still again keep keeps seems looks cluster clusters k8s kubernetes pod pods deployment deployments
    deploy service services svc namespace namespaces ns node nodes app apps application workload
    workloads container containers job jobs statefulset daemonset pvc prod production staging stage dev
    test live latency memory cpu disk logs log metrics alerts alert firing whole entire scope last past
    hour hours minute minutes day days week weeks month morning night yesterday time meantime moment
    general channel thread detail details particular short total case place front use odd weird""".split()
)
_ALERT_NAME_LABELS = (
    "pod",
    "deployment",
    "statefulset",
    "daemonset",
    "job_name",
    "persistentvolumeclaim",
    "container",
    "service",
    "app",
)


@dataclass
class Focus:
    namespaces: list[str] = field(default_factory=list)
    """Namespaces the question or alert names (in scope or not), in order of mention."""
    names: list[str] = field(default_factory=list)
    """Workloads/pods it names (subjects of the question, or alert labels)."""

    def __bool__(self) -> bool:
        return bool(self.namespaces or self.names)

    def describe(self) -> str:
        return ", ".join([*self.names, *self.namespaces])


def _add(out: list[str], value: str) -> None:
    value = value.strip(".-").lower()
    if value and value not in STOPWORDS and value not in out:
        out.append(value)


def question_focus(question: str, known_namespaces: Iterable[str]) -> Focus:
    """Namespaces and subjects named in `question`; `known_namespaces` lets bare words count."""
    text = question.lower()
    known = set(known_namespaces)
    focus = Focus()
    for rx in _EXPLICIT_NS:
        for m in rx.finditer(text):
            if _NS_LABEL.match(m["x"]):
                _add(focus.namespaces, m["x"])
    for m in _IN_NS.finditer(text):
        if _NS_LABEL.match(m["x"]):
            _add(focus.namespaces, m["x"])
    for word in _WORD.findall(text):
        if word in known:
            _add(focus.namespaces, word)
    for rx in _SUBJECT:
        for m in rx.finditer(text):
            if m["x"] not in focus.namespaces:
                _add(focus.names, m["x"])
    return focus


def alert_focus(alert: dict[str, Any] | None) -> Focus:
    """An Alertmanager webhook payload → its namespace(s) and resource names."""
    focus = Focus()
    if not isinstance(alert, dict):
        return focus
    groups = [alert.get("commonLabels"), alert.get("groupLabels")]
    groups += [a.get("labels") for a in alert.get("alerts") or [] if isinstance(a, dict)]
    for labels in groups:
        if not isinstance(labels, dict):
            continue
        ns = labels.get("namespace")
        if isinstance(ns, str) and _NS_LABEL.match(ns):
            _add(focus.namespaces, ns)
        for key in _ALERT_NAME_LABELS:
            value = labels.get(key)
            if isinstance(value, str) and re.fullmatch(NAME, value):
                _add(focus.names, value)
    return focus


def names_match(name: str, wanted: str) -> bool:
    """Is the resource `name` the workload/pod `wanted` (or one of its pods/replica sets)?"""
    return name == wanted or name.startswith(wanted + "-") or wanted.startswith(name + "-")


def words(question: str) -> set[str]:
    """Every name-like word of the question (to match against what findings are about)."""
    return {w for w in _WORD.findall(question.lower()) if w not in STOPWORDS and len(w) >= 3}
