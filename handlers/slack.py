"""`POST /slack/events`: verify, dedup, enqueue — nothing else.

Order on every request: our signature/timestamp check (so a rejection can be audited with
its reason and source IP; Bolt would only answer 401) → Bolt (`process_before_response=True`,
verifies again, url_verification, routing) → listener builds a `Job` and `JobQueue.enqueue()`
dedups on `event_id` / `trigger_id` and XADDs → only then does Slack get its 200. The LLM is
never called here.
"""

from __future__ import annotations

import hmac
import logging
import re
import time
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import parse_qs

from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response
from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncAssistant, AsyncBoltContext
from slack_bolt.authorization import AuthorizeResult
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_sdk.web.async_client import AsyncWebClient

from app import messages
from app.audit.slash import COMMAND as AUDIT_COMMAND
from app.jobs import Job
from app.queue import JobQueue
from app.thread_intake import DUPLICATE, QUEUED, ThreadIntake
from app.worker import IDENTITY_COMMANDS
from handlers.fast_ack import FastAck, bot_user_id, event_job
from handlers.json_guard import MAX_DEPTH, too_deep
from kernel.audit import AuditEvent, AuditSink
from kernel.metrics import Metrics

log = logging.getLogger(__name__)

PRIVATE_COMMANDS = frozenset({AUDIT_COMMAND})
"""Other slash subcommands answered privately by the worker (not questions for the model)."""

MAX_SKEW_S = 300
"""Slack's (and Bolt's) replay window: older or future timestamps are refused."""


class RejectionRecorder:
    """Audits refused requests (`auth_failure` rows) without letting a flood fill the table.

    At most `per_key` rows per minute per (reason, ip) and `total` rows per minute overall;
    the rest are only counted (metric always; the suppressed count is logged when a window
    closes). In-process on purpose: it must work when Redis is the thing being attacked.
    """

    def __init__(
        self,
        *,
        audit: AuditSink,
        metrics: Metrics,
        per_key: int = 5,
        total: int = 60,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._audit = audit
        self._metrics = metrics
        self._per_key = per_key
        self._total = total
        self._clock = clock
        self._window = -1
        self._counts: dict[tuple[str, str], int] = {}
        self._written = 0
        self._suppressed = 0

    async def record(self, reason: str, ip: str | None) -> bool:
        """Count the refusal; returns True when an audit row was written."""
        self._metrics.auth_failures.labels(reason).inc()
        window = int(self._clock() // 60)
        if window != self._window:
            if self._suppressed:
                log.warning(
                    "auth failures: %d more refusals were counted but not audited", self._suppressed
                )
            self._window, self._counts, self._written, self._suppressed = window, {}, 0, 0
        key = (reason, ip or "")
        self._counts[key] = self._counts.get(key, 0) + 1
        if self._counts[key] > self._per_key or self._written >= self._total:
            self._suppressed += 1
            return False
        self._written += 1
        try:
            await self._audit.write(
                AuditEvent(
                    event_type="auth_failure", user_id="unknown", failure_reason=reason, ip_address=ip
                )
            )
        except Exception as exc:  # the refusal stands even if the audit store is down
            log.error("could not write auth_failure audit row (%s)", type(exc).__name__)
            return False
        return True


def signature_problem(
    signing_secret: str, headers: Any, body: bytes, *, now: float | None = None
) -> str | None:
    """None when the request is signed by Slack within the replay window, else the reason."""
    ts, sig = headers.get("X-Slack-Request-Timestamp"), headers.get("X-Slack-Signature")
    if not ts or not sig:
        return "missing_signature"
    try:
        ts_int = int(ts)
    except ValueError:
        return "bad_timestamp"
    if abs((time.time() if now is None else now) - ts_int) > MAX_SKEW_S:
        return "stale_timestamp"
    # hmac.digest: the one-shot C HMAC, without an hmac object per request (ack path)
    mac = hmac.digest(signing_secret.encode(), b"v0:%s:%s" % (ts.encode(), body), "sha256")
    expected = b"v0=" + mac.hex().encode()
    if not hmac.compare_digest(expected, sig.encode("utf-8", "replace")):
        return "bad_signature"
    return None


class SlackEndpoint:
    """The aiohttp handler for `POST /slack/events`."""

    def __init__(
        self,
        *,
        bolt: AsyncApp,
        signing_secret: str | Callable[[], str],
        rejections: RejectionRecorder,
        fast: FastAck | None = None,
    ) -> None:
        self._bolt = bolt
        self._secret = signing_secret if callable(signing_secret) else (lambda: signing_secret)
        self._rejections = rejections
        self._fast = fast

    async def handle(self, request: web.Request) -> web.Response:
        body = await request.read()
        problem = signature_problem(self._secret(), request.headers, body)
        if problem is not None:
            await self._rejections.record(problem, request.remote)
            return web.json_response({"error": "invalid request signature"}, status=401)
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError:
            return web.json_response({"error": "body is not UTF-8"}, status=400)
        content_type = request.content_type
        if hostile_body(text, content_type, body):
            return web.json_response({"error": f"JSON nested deeper than {MAX_DEPTH} levels"}, status=400)
        if self._fast is not None:  # verified mentions/messages: queued without Bolt's dispatch
            fast = await self._fast.handle(body, content_type)
            if fast is not None:
                return fast
        try:  # Bolt parses the body here: a 5,000-digit number must not become a 500
            bolt_req = AsyncBoltRequest(body=text, query=request.query_string, headers=request.headers)  # type: ignore[arg-type]
        except (RecursionError, ValueError):
            return web.json_response({"error": "body is not acceptable JSON"}, status=400)
        bolt_resp = await self._bolt.async_dispatch(bolt_req)
        return await to_aiohttp_response(bolt_resp)


def hostile_body(text: str, content_type: str, raw: bytes | None = None) -> bool:
    """A JSON body, or the JSON `payload` field of a form (interactivity), nested too deep.
    `raw`: the same body as bytes, when the caller has them (spares an encode per request)."""
    if content_type == "application/x-www-form-urlencoded":
        if "payload=" not in text:
            return False  # slash commands: free text, no JSON
        return any(too_deep(v) for v in parse_qs(text).get("payload", []))
    return too_deep(text if raw is None else raw)


ActionHandler = Callable[[dict[str, Any]], Awaitable[None]]
"""Called with an interactivity payload after the ack (e.g. recording a feedback click)."""


def build_bolt_app(
    *,
    client: AsyncWebClient,
    signing_secret: str,
    queue: JobQueue,
    metrics: Metrics,
    on_action: ActionHandler | None = None,
    intake: ThreadIntake | None = None,
    assistant: AsyncAssistant | None = None,
) -> AsyncApp:
    async def envelope_bot(body: dict[str, Any], context: AsyncBoltContext, next: Any) -> Any:
        context["envelope_bot_user_id"] = bot_user_id(body)  # events carry it in `authorizations`
        return await next()

    async def authorize(
        enterprise_id: str | None, team_id: str | None, context: AsyncBoltContext
    ) -> AuthorizeResult:
        # Single workspace, no network: Bolt's default would call auth.test on the first
        # request, making the ack depend on Slack's API. The token is read per request, so a
        # rotated one (client.token updated by the secrets watcher) is used at once.
        return AuthorizeResult(
            enterprise_id=enterprise_id,
            team_id=team_id,
            bot_token=client.token,
            bot_user_id=context.get("envelope_bot_user_id"),
        )

    app = AsyncApp(
        client=client,
        signing_secret=signing_secret,
        before_authorize=envelope_bot,
        authorize=authorize,
        # SlackEndpoint verified the signature already, with the current (possibly rotated)
        # secret; Bolt's own check would hold the start-up value. Socket Mode is not signed.
        request_verification_enabled=False,
        process_before_response=True,  # the XADD happens before Slack gets its 200
        logger=logging.getLogger("aiops.bolt"),
    )
    app.use(assistant or assistant_listeners(queue, metrics))  # claims the container's events first
    register_listeners(app, queue=queue, metrics=metrics, on_action=on_action, intake=intake)
    return app


def assistant_listeners(queue: JobQueue, metrics: Metrics) -> AsyncAssistant:
    """Bolt's Assistant middleware: container events become `assistant` jobs (the worker
    works out the user's scope, then sets the title and suggested prompts)."""
    assistant = AsyncAssistant()

    async def enqueue(body: dict[str, Any], payload: dict[str, Any]) -> None:
        thread = payload.get("assistant_thread") or {}
        context = thread.get("context") or {}
        if not thread.get("user_id") or not thread.get("channel_id") or not thread.get("thread_ts"):
            return
        job = Job(
            job_id=str(body["event_id"]),
            kind="assistant",
            channel_id=str(thread["channel_id"]),
            user_id=str(thread["user_id"]),
            text=str(context.get("channel_id") or ""),
            team_id=body.get("team_id"),
            thread_ts=str(thread["thread_ts"]),
            command=str(payload.get("type")),
        )
        if await queue.enqueue(job):
            metrics.events_received.labels("assistant").inc()
        else:
            metrics.events_duplicate.labels("assistant").inc()

    assistant.thread_started(enqueue)
    assistant.thread_context_changed(enqueue)
    return assistant


def register_listeners(
    app: AsyncApp,
    *,
    queue: JobQueue,
    metrics: Metrics,
    on_action: ActionHandler | None = None,
    intake: ThreadIntake | None = None,
) -> None:
    async def enqueue(job: Job, source: str) -> None:
        if await queue.enqueue(job):
            metrics.events_received.labels(source).inc()
        else:
            metrics.events_duplicate.labels(source).inc()

    def count(outcome: int, source: str) -> None:
        if outcome == QUEUED:
            metrics.events_received.labels(source).inc()
        elif outcome == DUPLICATE:
            metrics.events_duplicate.labels(source).inc()

    @app.event("app_mention")
    async def on_mention(body: dict[str, Any], event: dict[str, Any], context: AsyncBoltContext) -> None:
        if event.get("bot_id") or not event.get("user"):
            return
        job = event_job(body, event, "mention", context.bot_user_id)
        if intake is None:
            await enqueue(job, "mention")
        else:  # dedup on channel + ts (the message.channels copy is the same message)
            count(await intake.mention(job), "mention")

    @app.event("message")
    async def on_message(body: dict[str, Any], event: dict[str, Any], context: AsyncBoltContext) -> None:
        # Only a person's own new message; bot posts, edits, deletions, joins… are ignored.
        if event.get("subtype") or event.get("bot_id"):
            return
        if not event.get("user") or event.get("user") == context.bot_user_id:
            return
        if event.get("channel_type") == "im":
            await enqueue(event_job(body, event, "dm", context.bot_user_id), "dm")
            return
        thread_ts = event.get("thread_ts")
        if intake is None or not thread_ts or thread_ts == event.get("ts"):
            return  # top-level channel chatter: only a mention (app_mention) is for us
        count(await intake.follow_up(event_job(body, event, "mention", context.bot_user_id)), "thread")

    @app.command(re.compile(r"^/aiops"))
    async def on_command(ack: AsyncAck, command: dict[str, Any]) -> None:
        text = str(command.get("text") or "").strip()
        word = text.split(maxsplit=1)[0].lower() if text else ""
        if not text:
            await ack(text=messages.COMMAND_EMPTY)
            return
        if word == "help":
            await ack(text=messages.HELP)
            return
        sub = word if word in IDENTITY_COMMANDS or word in PRIVATE_COMMANDS else None
        job = Job(
            job_id=str(command["trigger_id"]),
            kind="command",
            channel_id=str(command["channel_id"]),
            user_id=str(command["user_id"]),
            text=text,
            team_id=command.get("team_id"),
            command=sub,
            response_url=command.get("response_url"),
        )
        await enqueue(job, "command")
        await ack(text=messages.IDENTITY_COMMAND_ACK if sub else messages.COMMAND_ACK)

    @app.action(re.compile(".*"))
    async def on_any_action(ack: AsyncAck, body: dict[str, Any]) -> None:
        await ack()
        if on_action is None:
            return
        try:
            await on_action(body)
        except Exception as exc:  # a click must never turn into an error for the user
            log.warning("interactivity handler failed (%s)", type(exc).__name__)

    @app.event(re.compile(".*"))
    async def on_other_event() -> None:
        """Any other subscribed event: acknowledged, so Slack does not retry it."""
