"""The one neutralizer: no generated text can mention, broadcast or link to a foreign host."""

from __future__ import annotations

import itertools
import re
from urllib.parse import urlsplit

from hypothesis import example, given, settings
from hypothesis import strategies as st

from app.slack.neutralize import StreamSafe, hosts_of, neutralize

PROM = "prom.example.org"
AM = "alerts.example.org"
ALLOWED = frozenset({PROM, AM})

FRAGMENTS = [
    "<", ">", "<!", "!", "@", "#", "|", "channel", "here", "everyone", "subteam^S0SIM", "U0ADMIN",
    "W123", "C0INC", "<!channel>", "<!here|here>", "<@U0ADMIN>", "<#C0INC|incidents>",
    "<!subteam^S1|@oncall>", "< !everyone>", "@channel", "@Here", "http://", "https://", "HTTPS://",
    "slack://", "mailto:", "ftp://", "evil.example", "evil.example/login", "www.evil.example",
    PROM, AM, f"https://{PROM}/graph", f"https://{PROM}@evil.example/", f"https://evil.example\\@{PROM}/",
    f"http://{PROM}.evil.example/", f"https://{AM}:9093/#/alerts", "[", "]", "(", ")", "![", "](",
    "[click](", "text", " ", "\n", "\t", ":", "/", ".", "&lt;", "&gt;", "`", "```", "\u200b", "pod-1",
]  # fmt: skip
hostile = st.lists(
    st.sampled_from(FRAGMENTS) | st.text(max_size=4) | st.just("x" * 120), max_size=40
).map("".join)


def _host_allowed(url: str) -> bool:
    """Independent of the implementation: a browser-safe http(s) URL whose host is allowed."""
    if not re.match(r"(?i)^https?://", url) or "\\" in url:
        return False
    parts = urlsplit(url)
    return "@" not in parts.netloc and (parts.hostname or "") in ALLOWED


def violations(posted: str) -> list[str]:
    """What Slack (mrkdwn, markdown blocks, auto-linking) would turn into a mention or a link."""
    found = re.findall(r"<\s*[!@#][^>]*", posted)
    found += [u for u in re.findall(r"<([A-Za-z][\w+.\-]*:[^|>\s]*)", posted) if not _host_allowed(u)]
    md_targets = re.findall(r"\[[^\n]*\]\(\s*([^)\s]*)[^)]*\)", posted)
    linkable = r"[A-Za-z][\w+.\-]*:|(?:[\w\-]+\.)+[A-Za-z]{2,}"
    found += [u for u in md_targets if re.match(linkable, u) and not _host_allowed(u)]
    found += [u for u in re.findall(r"[A-Za-z][A-Za-z0-9+.\-]*://[^\s<>|()\[\]{}\"'`]*", posted)
              if not _host_allowed(u)]  # fmt: skip
    found += re.findall(r"(?<![\w])@(?:channel|here|everyone)\b", posted, flags=re.IGNORECASE)
    found += [h for h in re.findall(r"(?<![\w.\-@])www\.[\w\-]+(?:\.[\w\-]+)*", posted) if h not in ALLOWED]
    found += [h for h in re.findall(r"(?<![\w.\-@])((?:[A-Za-z0-9\-]+\.)+[A-Za-z]{2,})/\S", posted)
              if h.lower() not in ALLOWED]  # fmt: skip
    return found


@settings(max_examples=400, deadline=None)
@given(text=hostile)
def test_no_generated_text_can_mention_broadcast_or_link_elsewhere(text: str) -> None:
    assert violations(neutralize(text, ALLOWED)) == []


@settings(max_examples=200, deadline=None)
@given(text=hostile, cuts=st.lists(st.integers(0, 200), max_size=8))
# A long word cut inside a second `https://`: the allowed-looking head must not stay a link.
@example(text="x" * 120 + f"<https://{PROM}/graphhttps://evil.example\\@{PROM}/", cuts=[])
def test_text_split_into_stream_pieces_is_neutralized_too(text: str, cuts: list[int]) -> None:
    safe = StreamSafe(ALLOWED)
    bounds = sorted({0, len(text), *(c for c in cuts if c < len(text))})
    posted = "".join(safe.feed(text[a:b]) for a, b in itertools.pairwise(bounds))
    posted += safe.flush()
    assert violations(posted) == []


def test_allowed_links_pass_unchanged() -> None:
    for text in (
        f"see <https://{PROM}/graph?g0.expr=up|the graph>",
        f"[alert](https://{AM}:9093/#/alerts?filter=x)",
        f"https://{PROM}/graph?g0.expr=rate(x[5m])",
        "latency > 5s and a < b",
    ):
        assert neutralize(text, ALLOWED) == text


def test_typical_attacks_are_inert_and_readable() -> None:
    out = neutralize("<!channel> deploy via <https://evil.example/x|Prometheus> or [here](http://evil.example)")
    assert out.startswith("&lt;!channel>") and "Prometheus" in out and "here" in out
    assert "evil.example" not in out.replace("evil[.]example", "")
    assert neutralize("ping @here") == "ping @\u2060here"
    assert neutralize(f"https://{PROM}@evil.example/", ALLOWED).startswith("https[:]//")


def test_hosts_of_settings() -> None:
    assert hosts_of(f"https://{PROM}/", None, "", f"http://{AM}:9093") == ALLOWED
