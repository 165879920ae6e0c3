"""The background half of `/aiops login`: poll Keycloak until the device code is approved, refused
or expired, and report the outcome once — from whichever worker ends up polling.

With a `PendingLogins` store (Redis; production) the login survives the worker that started it:
every poll renews a lease, `resume()` (run by every worker process) claims logins whose lease
lapsed, and only the poller whose `finish()` wins reports. Without one (unit tests of the
polling mechanics) the login lives in this process only, as before.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

from redis.exceptions import RedisError

from app.identity.pending import Claim, PendingLogins
from app.identity.provider import DeviceLogin, LinkingProvider, LoginAbandoned
from kernel.errors import AuthFailure
from kernel.scope import Identity

log = logging.getLogger(__name__)

Report = Callable[[str, str | None, "Identity | Exception"], Awaitable[None]]
"""report(slack user, previously linked subject, identity or the failure): audit + tell, once."""

RESUME_EVERY_S = 2.0


class LoginRuns:
    def __init__(
        self, *, provider: LinkingProvider, report: Report, pending: PendingLogins | None = None
    ) -> None:
        self._provider = provider
        self._report = report
        self._pending = pending
        self._tasks: dict[str, asyncio.Task[None]] = {}
        self._claims: dict[str, Claim] = {}

    async def start(self, user: str, login: DeviceLogin, had: str | None) -> None:
        """A new login for `user` (replacing any other, here or on another worker)."""
        self._cancel(user)
        claim = None
        if self._pending is not None:
            claim = await self._pending.start(user, login, had)
        self._spawn(user, login, had, claim)

    async def stop(self, user: str) -> None:
        """`/aiops logout`: the login is dropped everywhere."""
        self._cancel(user)
        if self._pending is not None:
            await self._pending.drop(user)

    async def resume(self, stop: asyncio.Event, *, every_s: float = RESUME_EVERY_S) -> None:
        """Until `stop`: take over logins whose poller died (a no-op without a store)."""
        while not stop.is_set():
            if self._pending is not None:
                try:
                    for claim in await self._pending.orphans():
                        log.info("identity: resuming a device login another worker started")
                        self._spawn(claim.user, claim.login, claim.had, claim)
                except Exception as exc:  # Redis down: try again at the next sweep
                    log.warning("identity: could not look for pending logins (%s)", type(exc).__name__)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), every_s)

    def _spawn(self, user: str, login: DeviceLogin, had: str | None, claim: Claim | None) -> None:
        self._cancel(user)
        task = asyncio.create_task(self._run(user, login, had, claim), name=f"aiops-login-{user}")
        self._tasks[user] = task
        if claim is not None:
            self._claims[user] = claim
        task.add_done_callback(lambda done: self._forget(user, done))

    def _forget(self, user: str, task: asyncio.Task[None]) -> None:
        if self._tasks.get(user) is task:
            del self._tasks[user]
            self._claims.pop(user, None)

    def _cancel(self, user: str) -> None:
        task = self._tasks.pop(user, None)
        self._claims.pop(user, None)
        if task is not None:
            task.cancel()

    async def _run(self, user: str, login: DeviceLogin, had: str | None, claim: Claim | None) -> None:
        pending = self._pending
        keep = None
        if pending is not None and claim is not None:
            async def keep_polling(interval: float) -> bool:
                return await pending.renew(claim, interval)

            keep = keep_polling
        outcome: Identity | Exception
        try:
            outcome = await self._provider.complete_login(user, login, keep)
        except LoginAbandoned:
            return
        except asyncio.CancelledError:
            raise
        except RedisError as exc:  # the lease could not be renewed: a sweep resumes it later
            log.warning("identity: device login paused, Redis unavailable (%s)", type(exc).__name__)
            return
        except Exception as exc:
            outcome = exc
        if isinstance(outcome, AuthFailure) and outcome.reason == "token_invalid":
            outcome = await self._linked_meanwhile(user, had) or outcome
        if pending is not None and claim is not None:
            try:
                if not await pending.finish(claim):
                    return  # another poller owns this login now: it reports
            except RedisError as exc:
                log.warning("identity: could not close a device login (%s)", type(exc).__name__)
                return
        await self._report(user, had, outcome)

    async def _linked_meanwhile(self, user: str, had: str | None) -> Identity | None:
        """Keycloak refused a code that was already redeemed — by an earlier poller of this login
        that stored the link and died before reporting. The user is linked: say so, not 'refused'."""
        try:
            subject = await self._provider.linked_subject(user)
            if subject is None or subject == had:
                return None
            return await self._provider.identify(user)
        except Exception as exc:  # the refusal stands; the details may name the store
            log.warning("identity: could not check for a link made meanwhile (%s)", type(exc).__name__)
            return None

    async def wait(self) -> None:
        tasks = list(self._tasks.values())
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)

    async def aclose(self) -> None:
        """Shutdown: stop polling here and hand each login over to the next worker's sweep."""
        claims = list(self._claims.values())
        for task in list(self._tasks.values()):
            task.cancel()
        await self.wait()
        if self._pending is not None:
            for claim in claims:
                with contextlib.suppress(Exception):
                    await self._pending.release(claim)
