"""What a worker runs beside its jobs: the scheduler, and the change watcher when a Kubernetes API
is configured. Several workers each run one; a lease in PostgreSQL lets one of them poll per
interval."""

from __future__ import annotations

import os
import socket

import asyncpg

from aiops.sources import kubernetes_client
from app.background import Background, Together
from app.changes.store import ChangeStore
from app.changes.watcher import USER_AGENT, ChangeWatcher
from app.config import Settings
from app.queue import JobQueue
from app.schedules.runner import Scheduler
from app.schedules.store import ScheduleStore

HOLDER = f"{socket.gethostname()}-{os.getpid()}"
"""Who holds the watcher's lease (for operators reading change_watch_lease)."""


def worker_background(settings: Settings, pool: asyncpg.Pool, queue: JobQueue) -> Background:
    """The scheduler, and the change watcher when a Kubernetes API is configured."""
    scheduler = Scheduler(store=ScheduleStore(pool=pool), queue=queue)
    client = kubernetes_client(settings, user_agent=USER_AGENT)
    if client is None:
        return scheduler
    return Together(scheduler, ChangeWatcher(client=client, store=ChangeStore(pool=pool), holder=HOLDER))
