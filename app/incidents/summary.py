"""What a thread says, in the shapes a postmortem and a catch-up need: findings, the fix a person
confirmed, actions mentioned, what was ruled out, who is doing what, open questions.

Built from the turns alone, by plain rules (no model call): a summary must never contain more than
the turns it was given, and those were already filtered to what its reader may see.

Findings come through a seam (`FindingsSource`): today the first sentences of each answer; a source
of structured, cited findings can replace it without touching the rest.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from app.agent.findings import checked_claims
from app.incidents.thread import ThreadTurn

ALERT_USER = "alertmanager"
MAX_ITEMS = 8
MAX_SENTENCE = 300

_SENTENCE_SPLIT = re.compile(r"(?<=[.!?])\s+|\n+")
_FENCE = re.compile(r"```.*?(```|\Z)", re.S)
_NOT_PROSE = re.compile(r"^(\*[^*]+\*|_[^_]+_|(⚠️|:warning:).*)$")
_BOLD = re.compile(r"\*([^*\n]+)\*")
_FIX = re.compile(
    r"\b(fixed|fix (was|is)|the fix|fix:|resolved (it )?by|mitigated|rolled back|rolling back|reverted|"
    r"restarted|scaled (up|out)|raised the|increased the|bumped)\b",
    re.I,
)
_ACTION = re.compile(
    r"\b(restart\w*|roll(ed|ing)? ?back|rollback|revert\w*|scal(e|ed|ing) (up|out|down|to)|redeploy\w*|"
    r"deploy(ed|ing)?|cordon\w*|drain\w*|kubectl|fail(ed|ing)? ?over|patch(ed|ing)?|bump\w*|"
    r"increas\w* the|rais\w* the)\b",
    re.I,
)
_RULED_OUT = re.compile(
    r"\b(ruled out|not the cause|isn'?t the cause|is not the cause|not related|unrelated|no sign of|"
    r"looks? (fine|normal|healthy)|(is|are|was|were) (fine|healthy|normal)|no (errors|restarts|changes?)\b)",
    re.I,
)
_DOING = re.compile(
    r"^\s*(i'?m|i am|i'?ll|i will|i'?ve|i have|we'?re|looking (at|into)|on it|checking|taking)\b", re.I
)
_OPEN = re.compile(
    r"\b(unknown|unclear|not sure|could not|couldn'?t|cannot tell|can'?t tell|don'?t know|do not know|"
    r"no data|not enough (data|evidence)|check next|still need|open question)\b",
    re.I,
)


@dataclass(frozen=True)
class Said:
    """One sentence someone said, with who and when (for the timeline)."""

    text: str
    who: str
    at: str
    """HH:MM UTC."""


@dataclass
class Digest:
    fired: Said | None = None
    questions: list[Said] = field(default_factory=list)
    findings: list[Said] = field(default_factory=list)
    actions: list[Said] = field(default_factory=list)
    ruled_out: list[Said] = field(default_factory=list)
    doing: list[Said] = field(default_factory=list)
    open_questions: list[Said] = field(default_factory=list)
    fix: Said | None = None


class FindingsSource(Protocol):
    """Findings of a thread's answers (the seam for structured, cited findings)."""

    def __call__(self, turns: Sequence[ThreadTurn]) -> list[tuple[ThreadTurn, str]]: ...


def sentences(text: str) -> list[str]:
    """Prose sentences: code blocks, headings (a line that is all bold or italic) and notices
    (":warning:" lines, e.g. the offline-mode banner) dropped; bullets and emphasis stripped; capped."""
    text = _FENCE.sub(" ", text)
    lines = [ln for ln in text.splitlines() if not _NOT_PROSE.match(ln.strip())]
    out = []
    for raw in _SENTENCE_SPLIT.split("\n".join(lines)):
        s = _BOLD.sub(r"\1", raw).strip().lstrip("-•◦*> ").strip().strip("*_")
        if len(s) >= 8 and not s.startswith(("_audit ref", "#", "|")):
            out.append(s if len(s) <= MAX_SENTENCE else s[:MAX_SENTENCE] + "…")
    return out


def answer_findings(turns: Sequence[ThreadTurn]) -> list[tuple[ThreadTurn, str]]:
    """Each answer's checked, cited findings; for an answer without any (offline, older
    answers), its first two sentences, since answers lead with what they found."""
    out: list[tuple[ThreadTurn, str]] = []
    for t in (t for t in turns if t.role == "assistant"):
        found = checked_claims(t.content) or sentences(t.content)[:2]
        out += [(t, f) for f in found]
    return out


def who(turn: ThreadTurn, names: Mapping[str, str]) -> str:
    if turn.role == "assistant":
        return "aiops"
    if turn.user_id == ALERT_USER:
        return "Alertmanager"
    if turn.slack_user_id:
        return names.get(turn.slack_user_id, turn.slack_user_id)
    return turn.user_id


def digest(
    turns: Sequence[ThreadTurn],
    names: Mapping[str, str],
    findings: FindingsSource = answer_findings,
) -> Digest:
    """Sort what the turns say into the digest's sections (each newest-last, bounded)."""
    d = Digest()

    def said(turn: ThreadTurn, text: str) -> Said:
        return Said(text=text, who=who(turn, names), at=f"{turn.at:%H:%M}")

    for turn in turns:
        person = turn.role == "user" and turn.user_id != ALERT_USER
        if turn.user_id == ALERT_USER and turn.role == "user":
            d.fired = d.fired or said(turn, turn.content.strip()[:MAX_SENTENCE])
            continue
        if person:
            d.questions.append(said(turn, turn.content.strip()[:MAX_SENTENCE]))
        for s in sentences(turn.content):
            if person and _ACTION.search(s):  # what people did or said they do, not suggestions
                d.actions.append(said(turn, s))
            if _RULED_OUT.search(s):
                d.ruled_out.append(said(turn, s))
            if person and _DOING.search(s):
                d.doing.append(said(turn, s))
            if person and _FIX.search(s):
                d.fix = said(turn, s)  # the latest statement of a fix by a person wins
            if turn.role == "assistant" and _OPEN.search(s):
                d.open_questions.append(said(turn, s))
    d.findings = [said(t, s) for t, s in findings(turns)]
    for name in ("questions", "findings", "actions", "ruled_out", "doing", "open_questions"):
        setattr(d, name, dedup(getattr(d, name))[-MAX_ITEMS:])
    return d


def dedup(items: list[Said]) -> list[Said]:
    seen: set[str] = set()
    out = []
    for item in items:
        if item.text.lower() not in seen:
            seen.add(item.text.lower())
            out.append(item)
    return out
