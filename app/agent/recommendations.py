"""Role guard for remediation: viewers never receive recommendations.

The system prompt asks viewers' answers to leave them out, but the prompt is not the guard:
after generation (and while streaming) every section whose heading looks like remediation is
removed, and so is every line carrying a mutating command. For analysts/admins the section is
kept and extracted so a `recommendation` audit event can be written.
"""

from __future__ import annotations

import re

# A heading: Markdown `#…`, a bold line `**…**` / `*…*`, or a label line `Recommendations:`.
_HEADING = re.compile(r"^\s{0,3}(#{1,6}\s+|\*{1,2}|_{1,2})?(?P<title>[^\n]*?)(\*{1,2}|_{1,2})?\s*:?\s*$")
_REMEDIATION_TITLE = re.compile(
    r"^\W*(\d+[.)]\s*)?(recommend\w*|remediation\w*|suggested\s+(fix\w*|actions?|steps?)|next\s+steps?"
    r"|how\s+to\s+(fix|resolve|remediate)|fix(es)?|mitigation\w*|action\s+items?|what\s+to\s+do"
    r"|proposed\s+(fix\w*|actions?))\b",
    re.IGNORECASE,
)
# Lines that tell someone to change the cluster, wherever they appear.
_MUTATING = re.compile(
    r"\bkubectl\s+(delete|scale|rollout\s+(restart|undo)|apply|edit|patch|set|replace|drain|cordon|"
    r"uncordon|taint|label|annotate|create|expose|autoscale|cp|exec)\b"
    r"|\bhelm\s+(upgrade|rollback|install|uninstall|delete)\b",
    re.IGNORECASE,
)


def _is_heading(line: str) -> bool:
    s = line.strip()
    if not s:
        return False
    if s.startswith("#"):
        return True
    if (s.startswith("**") and s.endswith(("**", "**:"))) or (s.startswith("*") and s.endswith(("*", "*:"))):
        return len(s) < 80
    return s.endswith(":") and len(s) < 60 and not s.startswith(("-", "•", ">"))


def _title(line: str) -> str:
    m = _HEADING.match(line)
    return (m.group("title") if m else line).strip("*_#: \t")


def _heading_level(line: str) -> int:
    s = line.lstrip()
    if s.startswith("#"):
        return len(s) - len(s.lstrip("#"))
    return 7  # bold / label headings: ended by any other heading


def is_remediation_heading(line: str) -> bool:
    return _is_heading(line) and bool(_REMEDIATION_TITLE.match(_title(line)))


def split_recommendations(text: str) -> tuple[str, str | None]:
    """(text without remediation sections and mutating-command lines, the removed sections or None)."""
    kept: list[str] = []
    removed: list[str] = []
    in_section: int | None = None
    in_fence = False
    for line in text.splitlines():
        if line.strip().startswith("```"):
            in_fence = not in_fence
        if not in_fence and _is_heading(line):
            level = _heading_level(line)
            if is_remediation_heading(line):
                in_section = level if in_section is None else min(in_section, level)
                removed.append(line)
                continue
            if in_section is not None and (level <= in_section or in_section == 7):
                in_section = None
        if in_section is not None:
            removed.append(line)
        elif _MUTATING.search(line):
            removed.append(line)
        else:
            kept.append(line)
    body = "\n".join(kept).strip()
    # A fence left open by a removed line would swallow the rest of the message.
    if body.count("```") % 2:
        body += "\n```"
    recs = "\n".join(removed).strip()
    return body, (recs or None)


def strip_for_viewer(text: str) -> str:
    return split_recommendations(text)[0]


class ViewerStreamFilter:
    """Line-buffered filter for streamed text: nothing of a remediation section reaches a viewer.

    Text is released one complete line at a time, so a heading is always seen whole before any
    of its section is forwarded.
    """

    def __init__(self) -> None:
        self._pending = ""
        self._in_section: int | None = None
        self._in_fence = False

    def feed(self, chunk: str) -> str:
        self._pending += chunk
        if "\n" not in self._pending:
            return ""
        *lines, self._pending = self._pending.split("\n")
        return "".join(self._line(line) for line in lines)

    def flush(self) -> str:
        rest, self._pending = self._pending, ""
        return self._line(rest, newline=False) if rest else ""

    def _line(self, line: str, newline: bool = True) -> str:
        if line.strip().startswith("```"):
            self._in_fence = not self._in_fence
        if not self._in_fence and _is_heading(line):
            level = _heading_level(line)
            if is_remediation_heading(line):
                self._in_section = level if self._in_section is None else min(self._in_section, level)
                return ""
            if self._in_section is not None and (level <= self._in_section or self._in_section == 7):
                self._in_section = None
        if self._in_section is not None or _MUTATING.search(line):
            return ""
        return line + ("\n" if newline else "")
