"""The ingest benchmark still runs against the real app and its loss/dedup count is right
(figures are printed by `make bench`, never asserted)."""

from __future__ import annotations

from bench.ingest import parse_args, run_bench
from tests.conftest import ADMIN_DSN, REDIS_URL


async def test_every_acknowledged_event_is_on_the_stream_once() -> None:
    args = parse_args(["--events", "60", "--concurrency", "4", "--rounds", "2", "--warmup", "0",
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
