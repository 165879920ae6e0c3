"""`Job.stream_json()`: what the ack path writes to the stream reads back as the same job —
whatever the user typed (lone surrogates, emoji, control characters), whatever the fields hold."""

from __future__ import annotations

from hypothesis import example, given, settings
from hypothesis import strategies as st

from app.jobs import Job

_TEXT = st.text(alphabet=st.characters(codec=None), max_size=40)


@settings(max_examples=300, deadline=None)
@given(
    text=_TEXT,
    thread=st.one_of(st.none(), _TEXT),
    redacted=st.one_of(st.none(), st.lists(_TEXT, max_size=3)),
    alert=st.one_of(st.none(), st.dictionaries(_TEXT, st.integers(), max_size=3)),
)
@example(text="\ud800 lone surrogate", thread=None, redacted=None, alert=None)
@example(text="big", thread=None, redacted=None, alert={"n": 2**70})
def test_a_job_reads_back_as_written(text: str, thread: str | None, redacted: list[str] | None,
                                     alert: dict[str, int] | None) -> None:
    job = Job(job_id="Ev1", kind="mention", channel_id="C1", user_id="U1", text=text, thread_ts=thread,
              event_ts="1.000100", redacted=redacted, alert=alert)
    assert Job.from_fields({b"job": job.stream_json()}) == job
