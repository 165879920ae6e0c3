"""The one neutralizer for every text we post to Slack.

Answers quote cluster data and the model's own words, both untrusted: a pod annotation can say
`<!channel>`, a log line can carry `[click](https://evil.example)`. Everything we post — the
final answer, stream appends, the `chat.update` fallback, ephemeral replies, offline answers,
alert root and resolve messages — goes through `neutralize()` first, so that no generated text
can produce:

- a broadcast or mention: `<!channel>`, `<!here>`, `<!everyone>`, `<!subteam^…>`, `<@U…>`,
  `<#C…>`, or a plain `@channel` / `@here` / `@everyone`;
- a link to a host other than `allowed_hosts` (the configured Prometheus / Alertmanager external
  URLs): Slack links `<https://x|text>`, markdown links `[text](url)` / images, bare URLs with
  any scheme, and `www.` or `domain.tld/path` text that Slack would auto-link.

Neutralized forms stay readable: `&lt;!channel>` shows as `<!channel>`, a foreign markdown link
keeps its text, a foreign URL is defanged (`https[:]//evil[.]example/x`). Links to an allowed
host pass unchanged. `StreamSafe` does the same for text that arrives in pieces.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from urllib.parse import urlsplit

_SCHEME = r"[A-Za-z][A-Za-z0-9+.\-]*"
# A Slack link `<url|label>` or `<url>` (any scheme, incl. mailto:/slack:); the label may not
# contain `<`, `>` or a newline, as in Slack's own parser.
_ANGLE_LINK = rf"<(?P<url>{_SCHEME}:[^\s<>|]*)(?:\|(?P<label>[^<>\n]*))?>"
# Any other `<` that Slack could read as the start of a control sequence (also a `<` at the very
# end, which the next streamed piece could complete).
_ANGLE_CONTROL = rf"<(?=\s*(?:[!@#]|{_SCHEME}:|$))"
_ANGLE = re.compile(f"(?P<link>{_ANGLE_LINK})|(?P<ctl>{_ANGLE_CONTROL})")
_MD_LINK = re.compile(r"(?P<bang>!?)\[(?P<label>[^\[\]\n]*)\]\(\s*(?P<url>[^\s()]*)(?:\s+\"[^\"\n]*\")?\s*\)")
_URL = re.compile(rf"(?P<scheme>{_SCHEME})://(?P<rest>[^\s<>|()\[\]{{}}\"'`]*)")
_BARE_HOST = re.compile(
    r"(?<![\w.\-@])(?P<host>(?:www\.[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)*"
    r"|[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)*\.[A-Za-z]{2,}(?=/\S)))"
)
_BROADCAST_WORD = re.compile(r"@(?=(?:channel|here|everyone)\b)", re.IGNORECASE)
_HOSTNAME = re.compile(r"^[A-Za-z0-9.\-]+(?::\d{1,5})?$")
_ZWSP = "\u200b"
_ZWJ = "\u2060"  # word joiner: `@\u2060channel` reads as @channel but is not a mention


def neutralize(text: str, allowed_hosts: Iterable[str] = ()) -> str:
    """`text` with every mention, broadcast and link to a host outside `allowed_hosts`
    (host names, case-insensitive, any port) made inert."""
    allowed = frozenset(h.lower() for h in allowed_hosts if h)
    text = _ANGLE.sub(lambda m: _angle(m, allowed), text)
    text = _MD_LINK.sub(lambda m: _markdown_link(m, allowed), text)
    text = _URL.sub(lambda m: m.group(0) if _is_allowed(m.group(0), allowed) else _defang(m), text)
    text = _BARE_HOST.sub(lambda m: _defang_host(m.group("host"), allowed), text)
    return _BROADCAST_WORD.sub("@" + _ZWJ, text)


def hosts_of(*urls: str | None) -> frozenset[str]:
    """The host names of the configured external URLs (settings values, may be empty)."""
    return frozenset(h for u in urls if u and (h := urlsplit(u.strip()).hostname))


class StreamSafe:
    """Neutralizes text that arrives in pieces (stream appends, throttled updates): a control
    sequence or URL split across two pieces must not slip through. Text is released up to the
    last whitespace; the unfinished word waits for the next piece or `flush()`. A word longer
    than `MAX_HELD` is cut, with a zero-width space at the cut so no link or mention can
    span it."""

    MAX_HELD = 128

    def __init__(self, allowed_hosts: Iterable[str] = ()) -> None:
        self._allowed = frozenset(allowed_hosts)
        self._held = ""

    def feed(self, piece: str) -> str:
        text = self._held + piece
        cut = max(text.rfind(" "), text.rfind("\n"), text.rfind("\t")) + 1
        ready, held = text[:cut], text[cut:]
        # `<url|a label with spaces>` may still be open: keep the whole `<…` back.
        opened = ready.rfind("<")
        if opened != -1 and ">" not in ready[opened:] and "\n" not in ready[opened:]:
            ready, held = ready[:opened], ready[opened:] + held
        out = neutralize(ready, self._allowed) if ready else ""
        if len(held) > self.MAX_HELD:
            # A fragment of one long word: a link in it may go on in the next piece, so no host
            # is trusted in it, and the zero-width space keeps the rest from joining it.
            fragment, held = held[:-32], held[-32:]
            out += neutralize(fragment) + _ZWSP
        self._held = held
        return out

    def flush(self) -> str:
        text, self._held = self._held, ""
        return neutralize(text, self._allowed) if text else ""


def _angle(m: re.Match[str], allowed: frozenset[str]) -> str:
    if m.group("ctl") is not None:
        return "&lt;"
    url, label = m.group("url"), m.group("label")
    if _is_allowed(url, allowed):
        return f"<{url}|{neutralize(label, allowed)}>" if label is not None else m.group(0)
    shown = url if label is None else f"{url}|{label}"
    return "&lt;" + neutralize(shown, allowed) + ">"


def _markdown_link(m: re.Match[str], allowed: frozenset[str]) -> str:
    if _is_allowed(m.group("url"), allowed):
        return m.group(0)
    return neutralize(m.group("label"), allowed) or "link removed"


def _is_allowed(url: str, allowed: frozenset[str]) -> bool:
    """Only plain http(s) URLs whose authority is exactly an allowed host[:port]: no userinfo,
    no backslash, nothing a browser could read as another host."""
    m = re.match(r"(?i)^https?://([^/?#]*)", url)
    if m is None or not allowed or not _HOSTNAME.match(m.group(1)) or "://" in url[m.end() :]:
        return False
    return m.group(1).rsplit(":", 1)[0].lower() in allowed


def _defang(m: re.Match[str]) -> str:
    """No `://` and no dotted name left for Slack to auto-link, anywhere in the URL."""
    rest = m.group("rest").replace(".", "[.]").replace("://", "[:]//")
    return f"{m.group('scheme')}[:]//{rest}"


def _defang_host(host: str, allowed: frozenset[str]) -> str:
    return host if host.lower() in allowed else host.replace(".", "[.]")
