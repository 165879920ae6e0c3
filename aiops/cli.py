"""The `aiops` console script (BRIEF §3 CLI contract).

    aiops serve [--workers N] [--no-workers]   HTTP (+ Socket Mode with an app token) + N workers
    aiops worker [--concurrency N]              workers only
    aiops migrate                               apply database migrations (idempotent)
    aiops demo [--interactive [--as USER]]      the bot against simulators, on embedded stores
    aiops runbooks ingest PATH                  chunk Markdown runbooks into the Qdrant index
    aiops retention run [--days N] [--dry-run]  purge conversation history older than N (90) days
    aiops audit export|verify|prune|show|tail   signed export, chain check, 90-day prune (cli_audit)

Configuration problems print one line — `aiops: configuration error: <SETTING>: <reason>` —
and exit 2: no traceback, never a secret's value. Every log line also goes through a filter
that masks the loaded secret values, as a second line of defence.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import signal
import sys
import warnings
from collections.abc import Callable, Coroutine, Sequence
from importlib.metadata import entry_points
from pathlib import Path
from typing import TYPE_CHECKING, Any

import asyncpg
from redis.exceptions import RedisError

from aiops.cli_audit import COMMANDS as AUDIT_COMMANDS
from aiops.cli_audit import add_parser as add_audit_parser
from aiops.client import CLIENT_COMMANDS, add_client_commands, run_client
from aiops.logs import SecretMaskFilter as SecretMaskFilter  # re-exported (tests, old imports)
from aiops.logs import secret_values as secret_values
from aiops.logs import secrets_watcher, setup_logging
from app import messages
from app.config import (
    REQUIRED_SECRETS,
    Secrets,
    Settings,
    load_secrets,
    load_settings,
)
from app.queue import DEFAULT_CLAIM_IDLE_MS
from kernel.errors import ConfigError, StoreUnavailable

if TYPE_CHECKING:
    from aiops.bootstrap import Runtime
    from app.store_auth import StoreCredentials

log = logging.getLogger("aiops")

EXIT_CONFIG = 2
EXIT_UNAVAILABLE = 3

Command = Callable[[argparse.Namespace, Settings, Secrets], Coroutine[Any, Any, int]]


# ---- commands --------------------------------------------------------------------------------


async def _until_signal() -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    await stop.wait()


async def _run_workers(
    runtime: Runtime, stop: asyncio.Event, *, count: int, concurrency: int, claim_idle_ms: int
) -> list[asyncio.Task[None]]:
    tasks = [
        asyncio.create_task(
            runtime.worker(concurrency=concurrency, claim_idle_ms=claim_idle_ms).run(stop)
        )
        for _ in range(count)
    ]
    resume = getattr(runtime.identity, "resume_logins", None)  # device logins whose worker died
    if resume is not None and count:
        tasks.append(asyncio.create_task(resume(stop)))
    return tasks


# Heavy imports (SDKs, tools) happen inside the commands, so configuration errors are instant.


async def cmd_serve(args: argparse.Namespace, settings: Settings, secrets: Secrets) -> int:
    from aiops.bootstrap import build_runtime
    from aiops.serving import open_listeners

    runtime = await build_runtime(settings, secrets, watcher=secrets_watcher(args, settings))
    stop = asyncio.Event()
    listeners = None
    socket_mode = None
    try:
        listeners = await open_listeners(runtime, public=True)
        if secrets.slack_app_token is not None:
            from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler

            socket_mode = AsyncSocketModeHandler(
                runtime.bolt, secrets.slack_app_token.get_secret_value()
            )
            await socket_mode.connect_async()  # type: ignore[no-untyped-call]
            log.info("Socket Mode connected")
        workers = (
            []
            if args.no_workers
            else await _run_workers(
                runtime,
                stop,
                count=args.workers,
                concurrency=args.concurrency,
                claim_idle_ms=args.claim_idle_ms,
            )
        )
        await _until_signal()
        stop.set()
        await asyncio.gather(*workers, return_exceptions=True)
    finally:
        if socket_mode is not None:
            await socket_mode.close_async()  # type: ignore[no-untyped-call]
        if listeners is not None:
            await listeners.close()
        await runtime.aclose()
    return 0


async def cmd_worker(args: argparse.Namespace, settings: Settings, secrets: Secrets) -> int:
    from aiops.bootstrap import build_runtime
    from aiops.serving import open_listeners

    runtime = await build_runtime(settings, secrets, watcher=secrets_watcher(args, settings))
    stop = asyncio.Event()
    listeners = None
    try:
        listeners = await open_listeners(runtime, public=False)  # /metrics and probes
        workers = await _run_workers(
            runtime, stop, count=1, concurrency=args.concurrency, claim_idle_ms=args.claim_idle_ms
        )
        log.info("worker started (concurrency %d)", args.concurrency)
        waiter = asyncio.create_task(_until_signal())
        await asyncio.wait([waiter, *workers], return_when=asyncio.FIRST_COMPLETED)
        stop.set()
        await asyncio.gather(*workers, return_exceptions=True)
        waiter.cancel()
    finally:
        if listeners is not None:
            await listeners.close()
        await runtime.aclose()
    return 0


async def cmd_migrate(args: argparse.Namespace, settings: Settings, secrets: Secrets) -> int:
    from app.audit.migrate import migrate
    from app.stores import open_database

    async with (
        open_database(
            database_url=settings.database_url, data_dir=settings.data_dir, credentials=_creds(settings)
        ) as (pool, _),
        pool.acquire() as conn,
    ):
        applied = await migrate(conn)
    print("applied: " + (", ".join(applied) if applied else "nothing (up to date)"))
    return 0


async def cmd_runbooks_ingest(args: argparse.Namespace, settings: Settings, secrets: Secrets) -> int:
    from aiops.sources import build_embedder
    from kernel.errors import BackendError
    from tools.runbooks.index import RunbookIndex
    from tools.runbooks.ingest import ingest

    index = RunbookIndex.open(
        url=settings.qdrant_url, data_dir=settings.data_dir, embedder=build_embedder(settings, secrets)
    )
    try:
        count = await ingest(Path(args.path), index=index)
    except (BackendError, FileNotFoundError) as exc:  # one line, no traceback
        print(f"aiops: runbooks ingest failed: {exc}", file=sys.stderr)
        return 1
    finally:
        await index.close()
    print(f"indexed {count} runbook chunks from {args.path}")
    return 0


async def cmd_retention_run(args: argparse.Namespace, settings: Settings, secrets: Secrets) -> int:
    from datetime import timedelta

    from app.audit.migrate import migrate
    from app.audit.status import record_success
    from app.incidents.retention import purge_memory
    from app.memory.notes import NoteStore
    from app.retention import purge_change_records, purge_conversations, purge_incidents
    from app.stores import open_database

    if args.days < 1:
        raise ConfigError("--days", "must be at least 1")
    async with open_database(
        database_url=settings.database_url, data_dir=settings.data_dir, credentials=_creds(settings)
    ) as (
        pool,
        embedded,
    ):
        if embedded:  # our own database: make sure the table exists
            async with pool.acquire() as conn:
                await migrate(conn)
        count = await purge_conversations(pool, older_than=timedelta(days=args.days), dry_run=args.dry_run)
        if not args.dry_run:  # the nightly Job's last success, for aiops_task_last_success_timestamp_seconds
            await record_success(pool, "retention")
        notes = await NoteStore(pool=pool).purge(older_than=timedelta(days=args.days), dry_run=args.dry_run)
        incidents = await purge_incidents(pool, older_than=timedelta(days=args.days), dry_run=args.dry_run)
        changes = await purge_change_records(pool, older_than=timedelta(days=args.days), dry_run=args.dry_run)
    if not args.dry_run:  # the incident memory on the Qdrant server (local mode purges itself)
        key = secrets.qdrant_api_key.get_secret_value() if secrets.qdrant_api_key else None
        await purge_memory(settings.qdrant_url, key, older_than=timedelta(days=args.days))
    verb = "would delete" if args.dry_run else "deleted"
    print(
        f"{verb} {count} conversation turns, {notes} team notes, {incidents} incident postmortems and "
        f"{changes} change records older than {args.days} days"
    )
    return 0


async def cmd_api(args: argparse.Namespace, settings: Settings, secrets: Secrets) -> int:
    from aiops.api_server import serve_api

    stop = asyncio.Event()
    server = asyncio.create_task(serve_api(settings, secrets, stop))
    waiter = asyncio.create_task(_until_signal())
    await asyncio.wait({server, waiter}, return_when=asyncio.FIRST_COMPLETED)
    stop.set()
    waiter.cancel()
    await server  # re-raises a start-up failure (port taken, store down)
    return 0


def _creds(settings: Settings) -> StoreCredentials:
    from app.store_auth import StoreCredentials

    return StoreCredentials(settings.secrets_dir, settings.ca_bundle)


# Part of the CLI contract (BRIEF §3), built by a later issue: say so before anything else.
NOT_YET: frozenset[str] = frozenset()


# Each command requires only the secret files it uses (a migrate Job mounts no Slack secret).
COMMAND_SECRETS: dict[str, tuple[str, ...]] = {
    "serve": REQUIRED_SECRETS,
    "worker": ("slack_bot_token",),
    "migrate": (),
    "retention run": (),
    "api": (),  # the API pod holds no Slack secret and no LLM key
    "runbooks ingest": (),
    **{name: () for name in AUDIT_COMMANDS},  # the audit CronJobs hold only the audit secrets
}

COMMANDS: dict[str, Command] = {
    "serve": cmd_serve,
    "worker": cmd_worker,
    "migrate": cmd_migrate,
    "runbooks ingest": cmd_runbooks_ingest,
    "retention run": cmd_retention_run,
    "api": cmd_api,
    **AUDIT_COMMANDS,
}


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="aiops", description="Slack-first AI Ops assistant")
    p.add_argument("--log-level", default="INFO")
    sub = p.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="HTTP server (+ Socket Mode) and in-process workers")
    serve.add_argument("--workers", type=int, default=1, metavar="N")
    serve.add_argument("--no-workers", action="store_true")
    serve.add_argument("--concurrency", type=int, default=4, metavar="N")
    serve.add_argument(
        "--claim-idle-ms", type=int, default=DEFAULT_CLAIM_IDLE_MS, help=argparse.SUPPRESS
    )
    worker = sub.add_parser("worker", help="workers only")
    worker.add_argument("--concurrency", type=int, default=4, metavar="N")
    worker.add_argument(
        "--claim-idle-ms", type=int, default=DEFAULT_CLAIM_IDLE_MS, help=argparse.SUPPRESS
    )
    sub.add_parser("migrate", help="apply database migrations")
    sub.add_parser("api", help="the REST API on AIOPS_API_PORT (questions go to the workers)")
    add_client_commands(sub)
    demo = sub.add_parser("demo", help="the whole bot against a simulated workspace")
    demo.add_argument("--interactive", action="store_true", help="then read questions from stdin")
    demo.add_argument("--as", dest="as_user", default="alice", choices=["alice", "vera"],
                      help="who you are in --interactive (alice: analyst, vera: viewer)")
    runbooks = sub.add_parser("runbooks").add_subparsers(dest="action", required=True)
    runbooks.add_parser("ingest").add_argument("path")
    add_audit_parser(sub)
    retention = sub.add_parser("retention").add_subparsers(dest="action", required=True)
    run = retention.add_parser("run", help="purge conversation history past the retention period")
    run.add_argument("--days", type=int, default=90, help="keep this many days (default 90)")
    run.add_argument("--dry-run", action="store_true", help="only count what would be deleted")
    return p


async def _not_yet(name: str) -> int:
    print(messages.NOT_WIRED.format(command=name), file=sys.stderr)
    return 1


async def cmd_demo(args: argparse.Namespace) -> int:
    """Builds its own settings and secrets (a throw-away directory), so it runs anywhere.

    The demo lives in the aiops-sim distribution (the simulators), found through the
    `aiops.commands` entry point: the production image installs only aiops and says so."""
    found = [ep for ep in entry_points(group="aiops.commands") if ep.name == "demo"]
    if not found:
        print(messages.DEMO_NOT_INSTALLED, file=sys.stderr)
        return 1
    run_demo = found[0].load()
    # platformdirs (under pgserver) warns about an unset XDG_RUNTIME_DIR on bare machines
    warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR")
    code: int = await run_demo(os.environ, interactive_as=args.as_user if args.interactive else None)
    return code


def _command(args: argparse.Namespace) -> Coroutine[Any, Any, int]:
    if args.command == "demo":
        # The demo narrates on stdout; library chatter below WARNING would drown it.
        setup_logging(None, "WARNING" if args.log_level == "INFO" else args.log_level)
        return cmd_demo(args)
    name = args.command + (f" {args.action}" if getattr(args, "action", None) else "")
    if name in NOT_YET:
        return _not_yet(name)
    if args.command in CLIENT_COMMANDS:
        return run_client(args)
    settings = load_settings(os.environ)
    secrets = load_secrets(settings.secrets_dir, required=COMMAND_SECRETS.get(name, REQUIRED_SECRETS))
    args.log_mask = setup_logging(secrets, args.log_level, settings.log_format)
    return COMMANDS[name](args, settings, secrets)


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        command = _command(args)
    except ConfigError as exc:
        print(messages.config_error_line(exc.setting, exc.reason), file=sys.stderr)
        return EXIT_CONFIG
    try:
        return asyncio.run(command)
    except ConfigError as exc:
        print(messages.config_error_line(exc.setting, exc.reason), file=sys.stderr)
        return EXIT_CONFIG
    except StoreUnavailable as exc:
        print(f"aiops: {exc}", file=sys.stderr)
        return EXIT_UNAVAILABLE
    except (OSError, asyncpg.PostgresError, RedisError) as exc:
        # e.g. the port is taken, a migration fails: one line, not a traceback
        print(messages.startup_failed(exc), file=sys.stderr)
        return EXIT_UNAVAILABLE
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
