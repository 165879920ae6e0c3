"""The ingest benchmark still runs against the real app and its loss/dedup count is right
(figures are printed by `make bench`, never asserted)."""

from __future__ import annotations

import shutil

import pytest

from bench.ingest import WrkTotals, parse_args, run_bench
from tests.conftest import ADMIN_DSN, REDIS_URL


async def test_every_acknowledged_event_is_on_the_stream_once() -> None:
    args = parse_args(["--client", "python", "--events", "60", "--concurrency", "4", "--rounds", "2",
                       "--warmup", "0",
                       "--retry-every", "3", "--seconds", "60", "--paced-events", "30",
                       "--database-url", ADMIN_DSN, "--redis-url", REDIS_URL])
    bare, real, paced, stream = await run_bench(args)
    assert bare.ok == bare.sent == real.sent
    assert real.ok == real.sent, real.errors
    redeliveries = real.sent - len(real.unique_sent)
    assert redeliveries == 20  # every 3rd of 60 events was sent twice, all answered 200 …
    # the open-loop phase: 30 more events, every 3rd redelivered, all answered 200
    assert paced.ok == paced.sent == 40 and len(paced.unique_ok) == 30
    assert stream == len(real.unique_ok) == 90  # … and queued once: nothing lost, nothing doubled


async def test_wrk_phase_loses_nothing_and_counts_what_it_sent() -> None:
    if shutil.which("wrk") is None:
        pytest.fail("wrk is not installed: `make test` installs it (scripts/ensure-test-services)")
    args = parse_args(["--client", "wrk", "--wrk-requests", "20000", "--concurrency", "8", "--rounds", "1",
                       "--seconds", "1", "--warmup", "5", "--paced-events", "20", "--retry-every", "4",
                       "--database-url", ADMIN_DSN, "--redis-url", REDIS_URL])
    bare, real, paced, stream = await run_bench(args)
    assert isinstance(real, WrkTotals) and isinstance(bare, WrkTotals)
    assert real.rps > 0 and bare.rps > 0
    (rnd,) = real.rounds
    assert rnd.non2xx == 0 and rnd.socket_errors == 0 and not rnd.wrapped
    # 5 warm-up + 20 paced events (5 redelivered) + every event wrk saw acknowledged; at most the
    # requests in flight when wrk stopped (≤ one per connection) are queued without a counted 200
    acked = real.acked_distinct + len(real.unique_ok)
    assert len(real.unique_ok) == 25 and paced.ok == paced.sent == 25
    assert acked <= stream <= acked + 8
