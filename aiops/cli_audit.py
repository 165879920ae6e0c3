"""`aiops audit …` (BRIEF §3 wave 2): export, verify, prune, show, tail — thin wiring over
app/audit. Exit codes: 0 fine, 1 tampering/a gap (verify) or nothing found (show), 2 a
configuration error, 3 the object store or the database unreachable."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Coroutine
from datetime import date
from typing import Any

from app.audit.status import record_success
from app.config import Secrets, Settings
from app.store_auth import StoreCredentials

Command = Callable[[argparse.Namespace, Settings, Secrets], Coroutine[Any, Any, int]]


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected YYYY-MM-DD, got {text!r}") from None


def add_parser(sub: Any) -> None:
    audit = sub.add_parser("audit", help="audit log: signed export, verify, prune, read").add_subparsers(
        dest="action", required=True
    )
    export = audit.add_parser("export", help="export finished UTC days to the object-locked bucket")
    export.add_argument("--date", type=_day, help="export up to this day (default: yesterday)")
    verify = audit.add_parser("verify", help="check the digest chain, exports and rows")
    verify.add_argument("--from", dest="from_day", type=_day)
    verify.add_argument("--to", dest="to_day", type=_day)
    prune = audit.add_parser("prune", help="delete verified audit rows older than 90 days")
    prune.add_argument("--dry-run", action="store_true")
    show = audit.add_parser("show", help="one audit event (and a query's tool calls)")
    show.add_argument("id")
    tail = audit.add_parser("tail", help="recent audit events")
    tail.add_argument("--user")
    tail.add_argument("--since", default="24h", help="e.g. 30m, 24h, 7d (default 24h)")


def _db(settings: Settings, secrets: Secrets) -> Any:
    from app.stores import open_database

    return open_database(
        database_url=settings.database_url,
        data_dir=settings.data_dir,
        credentials=StoreCredentials(settings.secrets_dir, settings.ca_bundle),
    )


async def _guarded(run: Callable[[], Coroutine[Any, Any, int]]) -> int:
    """botocore's "the bucket/key said no" (AccessDenied, NoSuchBucket) is configuration: exit 2."""
    from botocore.exceptions import ClientError

    try:
        return await run()
    except ClientError as exc:
        err = exc.response.get("Error", {})
        print(
            f"aiops: object store refused: {err.get('Code', '?')} {err.get('Message', '')}".rstrip(),
            file=sys.stderr,
        )
        return 2


async def cmd_export(args: argparse.Namespace, settings: Settings, secrets: Secrets) -> int:
    from app.audit.export import ExportRefused, export
    from app.audit.setup import build_bucket, build_signer

    bucket, signer = build_bucket(settings, secrets), build_signer(settings, secrets)

    async def run() -> int:
        async with _db(settings, secrets) as (pool, _):
            try:
                done = await export(pool, bucket, signer, through=args.date)
            except ExportRefused as exc:
                print(f"aiops: audit export refused: {exc}", file=sys.stderr)
                return 2
            await record_success(pool, "audit_export")
        for d in done:
            if d.already:
                print(f"{d.day}: already exported (digest sha256 {d.digest_sha256}); nothing changed")
            else:
                print(
                    f"{d.day}: exported {d.rows} rows (digest sha256 {d.digest_sha256}, key {signer.key_id})"
                )
        return 0

    return await _guarded(run)


async def cmd_verify(args: argparse.Namespace, settings: Settings, secrets: Secrets) -> int:
    from app.audit.setup import build_bucket, build_verifier
    from app.audit.verify import render, store_run, verify

    bucket, verifier = build_bucket(settings, secrets), build_verifier(settings, secrets)

    async def run() -> int:
        async with _db(settings, secrets) as (pool, _):
            report = await verify(pool, bucket, verifier, from_day=args.from_day, to_day=args.to_day)
            await store_run(pool, report)
            if report.ok:
                await record_success(pool, "audit_verify")
        print(render(report))
        return 0 if report.ok else 1

    return await _guarded(run)


async def cmd_prune(args: argparse.Namespace, settings: Settings, secrets: Secrets) -> int:
    from app.audit.prune import prune
    from app.audit.setup import build_bucket, build_verifier

    bucket, verifier = build_bucket(settings, secrets), build_verifier(settings, secrets)

    async def run() -> int:
        async with _db(settings, secrets) as (pool, _):
            results = await prune(
                pool, bucket, verifier, agent_version=settings.agent_version, dry_run=args.dry_run
            )
            if not args.dry_run:
                await record_success(pool, "audit_prune")
        if not results:
            print("nothing older than 90 days")
        for r in results:
            print(f"{r.day}  {r.rows:>8} rows  {r.reason}")
        return 0

    return await _guarded(run)


async def cmd_show(args: argparse.Namespace, settings: Settings, secrets: Secrets) -> int:
    from app.audit.reading import format_record, parse_id, show

    event_id = parse_id(args.id)
    if event_id is None:
        print(f"aiops: not an audit id: {args.id!r}", file=sys.stderr)
        return 2
    async with _db(settings, secrets) as (pool, _):
        record = await show(pool, event_id)
    if record is None:
        print(f"no audit event {event_id}", file=sys.stderr)
        return 1
    print(format_record(record))
    return 0


async def cmd_tail(args: argparse.Namespace, settings: Settings, secrets: Secrets) -> int:
    from app.audit.reading import format_tail, parse_since, tail

    try:
        since = parse_since(args.since)
    except ValueError as exc:
        print(f"aiops: {exc}", file=sys.stderr)
        return 2
    async with _db(settings, secrets) as (pool, _):
        rows = await tail(pool, since=since, user=args.user)
    print(format_tail(rows))
    return 0


COMMANDS: dict[str, Command] = {
    "audit export": cmd_export,
    "audit verify": cmd_verify,
    "audit prune": cmd_prune,
    "audit show": cmd_show,
    "audit tail": cmd_tail,
}
