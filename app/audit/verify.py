"""`aiops audit verify [--from D] [--to D]`: CloudTrail's validate-logs plus a comparison with
PostgreSQL. For each day: the digest (every version, so a delete marker or an overwrite is
seen) must exist, be signed by a known key and link to the previous day's digest; the export
object version it names must be current and hash to `object_sha256`; and the exported rows
must equal the rows still in the database — except rows the 90-day retention pruned (it
records each pruned day as a `retention` audit event).

Each run's outcome goes to `audit_verify_runs` (metrics, API, alerts read the last one).
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import tempfile
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import asyncpg

from app.audit.compare import compare_day
from app.audit.digest import Verifier
from app.audit.export import original
from app.audit.s3 import AuditBucket, Version, digest_key

CHAIN, SIGNATURE = "chain broken", "signature invalid"
MODIFIED, MISSING, ADDED = "row modified", "row missing", "row added after export"
_UNKNOWN = object()  # previous link cannot be checked (the previous digest is missing)


@dataclass
class Problem:
    kind: str
    detail: str

    def as_dict(self, day: date) -> dict[str, str]:
        return {"day": day.isoformat(), "kind": self.kind, "detail": self.detail}


@dataclass
class DayResult:
    day: date
    rows: int | None = None
    digest_sha256: str | None = None
    problems: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def add(self, kind: str, detail: str) -> None:
        self.problems.append(Problem(kind, detail))


@dataclass
class Report:
    days: list[DayResult]
    from_day: date | None = None
    to_day: date | None = None

    @property
    def ok(self) -> bool:
        return all(d.ok for d in self.days)

    def last_verified(self) -> date | None:
        good = [d.day for d in self.days if d.ok]
        return max(good) if good else None


async def retained_days(pool: asyncpg.Pool) -> set[date]:
    rows = await pool.fetch(
        "SELECT DISTINCT session_id FROM audit_events"
        " WHERE event_type = 'retention' AND session_id LIKE 'retention:%'"
    )
    return {date.fromisoformat(r["session_id"].split(":", 1)[1]) for r in rows}


async def verify(
    pool: asyncpg.Pool,
    bucket: AuditBucket,
    verifier: Verifier,
    *,
    from_day: date | None = None,
    to_day: date | None = None,
) -> Report:
    versions = await asyncio.to_thread(bucket.versions)
    known = set(bucket.digest_days(versions))
    known |= {r["day"] for r in await pool.fetch("SELECT day FROM audit_exports")}
    if not known:
        return Report([], from_day, to_day)
    first = min(known)
    lo, hi = max(from_day or first, first), to_day or max(known)
    retained = await retained_days(pool)
    prev: object = None
    if lo > first:
        prev = await _digest_sha(bucket, versions, lo - timedelta(days=1))
    out = []
    day = lo
    while day <= hi:
        result, prev = await verify_day(pool, bucket, verifier, versions, day, prev, day in retained)
        out.append(result)
        day += timedelta(days=1)
    return Report(out, lo, hi)


async def _digest_sha(bucket: AuditBucket, versions: dict[str, list[Version]], day: date) -> object:
    v = original(versions.get(digest_key(bucket.prefix, day), []))
    if v is None:
        return _UNKNOWN
    body = await asyncio.to_thread(bucket.read, digest_key(bucket.prefix, day), v.version_id)
    return hashlib.sha256(body).hexdigest()


async def verify_day(
    pool: asyncpg.Pool,
    bucket: AuditBucket,
    verifier: Verifier,
    versions: dict[str, list[Version]],
    day: date,
    expected_prev: object,
    retained: bool,
) -> tuple[DayResult, object]:
    """Checks one day; returns its result and its digest's SHA-256 (the next day's link)."""
    res = DayResult(day)
    dkey = digest_key(bucket.prefix, day)
    vs = versions.get(dkey, [])
    orig = original(vs)
    if orig is None:
        res.add(CHAIN, f"digest {dkey} is missing")
        return res, _UNKNOWN
    if vs[0].delete_marker:
        res.add(CHAIN, f"digest {dkey} was deleted (delete marker)")
    real = [v for v in vs if not v.delete_marker]
    body = await asyncio.to_thread(bucket.read, dkey, orig.version_id)
    res.digest_sha256 = hashlib.sha256(body).hexdigest()
    digest = _parse(body)
    if digest is None:
        res.add(CHAIN, f"digest {dkey} is not valid JSON")
        return res, hashlib.sha256(body).hexdigest()
    if (why := verifier.check(digest)) is not None:
        res.add(SIGNATURE, f"digest {dkey}: {why}")
    if len(real) > 1:
        res.add(CHAIN, f"digest {dkey} was overwritten ({len(real)} versions)")
        current = _parse(await asyncio.to_thread(bucket.read, dkey, real[0].version_id))
        if current is not None and (why := verifier.check(current)) is not None:
            res.add(SIGNATURE, f"digest {dkey} (current version): {why}")
    if expected_prev is not _UNKNOWN and digest.get("previous_digest_sha256") != expected_prev:
        res.add(CHAIN, f"digest {dkey} does not link to the digest of {day - timedelta(days=1)}")
    if digest.get("date") != day.isoformat():
        res.add(CHAIN, f"digest {dkey} names the date {digest.get('date')}")
    await _check_export(pool, bucket, versions, digest, res, retained)
    return res, hashlib.sha256(body).hexdigest()


def _parse(body: bytes) -> dict[str, Any] | None:
    try:
        obj = json.loads(body)
    except ValueError:
        return None
    return obj if isinstance(obj, dict) else None


async def _check_export(
    pool: asyncpg.Pool,
    bucket: AuditBucket,
    versions: dict[str, list[Version]],
    digest: dict[str, Any],
    res: DayResult,
    retained: bool,
) -> None:
    key, named = str(digest.get("object_key")), str(digest.get("object_version_id"))
    evs = versions.get(key, [])
    if named not in {v.version_id for v in evs if not v.delete_marker}:
        res.add(CHAIN, f"export {key} version {named} is missing")
        return
    if evs[0].delete_marker:
        res.add(CHAIN, f"export {key} was deleted (delete marker)")
    elif evs[0].version_id != named:
        res.add(CHAIN, f"export {key} was replaced (its current version is not the one the digest names)")
    with tempfile.TemporaryFile() as tmp:
        h = hashlib.sha256()
        await asyncio.to_thread(bucket.download, key, named, _Hashing(tmp, h))
        if h.hexdigest() != digest.get("object_sha256"):
            res.add(CHAIN, f"export {key} does not match its digest's object_sha256")
            return
        tmp.seek(0)
        diff = await compare_day(pool, res.day, tmp)
    res.rows = diff.exported
    if diff.exported != digest.get("row_count"):
        res.add(CHAIN, f"export {key} holds {diff.exported} rows, its digest says {digest.get('row_count')}")
    for row_id in diff.modified:
        res.add(MODIFIED, row_id)
    if not retained:
        for row_id in diff.missing:
            res.add(MISSING, row_id)
    for row_id in diff.added:
        res.add(ADDED, row_id)


class _Hashing:
    """A writable file that also hashes what goes through it."""

    def __init__(self, f: Any, h: Any) -> None:
        self._f, self._h = f, h

    def write(self, data: bytes) -> int:
        self._h.update(data)
        return int(self._f.write(data))


async def store_run(pool: asyncpg.Pool, report: Report) -> None:
    problems = [p.as_dict(d.day) for d in report.days for p in d.problems]
    await pool.execute(
        "INSERT INTO audit_verify_runs (from_day, to_day, ok, days_checked, last_verified_day, problems)"
        " VALUES ($1, $2, $3, $4, $5, $6::jsonb)",
        report.from_day,
        report.to_day,
        report.ok,
        len(report.days),
        report.last_verified(),
        json.dumps(problems[:5000]),
    )


def render(report: Report) -> str:
    """The table printed by `aiops audit verify`."""
    if not report.days:
        return "no audit exports found: nothing to verify"
    lines = [f"{'DAY':<10}  {'ROWS':>8}  RESULT"]
    for d in report.days:
        rows = "-" if d.rows is None else str(d.rows)
        if d.ok:
            lines.append(f"{d.day}  {rows:>8}  OK")
            continue
        for i, p in enumerate(d.problems[:20]):
            head = f"{d.day}  {rows:>8}" if i == 0 else " " * 20
            lines.append(f"{head}  {p.kind}: {p.detail}")
        if len(d.problems) > 20:
            lines.append(" " * 20 + f"  … and {len(d.problems) - 20} more")
    bad = sum(not d.ok for d in report.days)
    summary = "all verified" if not bad else f"{bad} with problems"
    lines.append(f"{len(report.days)} days checked: {summary}")
    return "\n".join(lines)
