"""Item 1: a role named in DATABASE_URL without a password authenticates with the
`postgres_password` secret file (scram-sha-256, on a private PostgreSQL instance — the
machine's shared server uses trust and must never be stopped)."""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import asyncpg
import pytest

from app.audit.migrate import migrate
from app.config import load_secrets
from app.store_auth import StoreCredentials
from app.stores import open_database
from kernel.errors import StoreUnavailable


def _bindir() -> Path | None:
    found = shutil.which("pg_config")
    if found:
        out = subprocess.run([found, "--bindir"], capture_output=True, text=True, check=False).stdout.strip()
        if out and (Path(out) / "initdb").exists():
            return Path(out)
    dirs = sorted(glob.glob("/usr/lib/postgresql/*/bin"))
    return Path(dirs[-1]) if dirs else None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def scram_pg() -> Iterator[int]:
    bindir = _bindir()
    if bindir is None or os.geteuid() != 0:
        pytest.skip("needs Debian's PostgreSQL server binaries and root (to run initdb as postgres)")
    root = Path(tempfile.mkdtemp(prefix="aiops-pg-"))
    os.chmod(root, 0o755)
    data, sock, pw = root / "data", root / "sock", root / "pw"
    sock.mkdir()
    pw.write_text("owner-pw\n")
    shutil.chown(root, "postgres")
    shutil.chown(sock, "postgres")
    shutil.chown(pw, "postgres")
    port = _free_port()

    def as_pg(*cmd: str) -> None:
        subprocess.run(["runuser", "-u", "postgres", "--", *cmd], check=True, capture_output=True)

    as_pg(str(bindir / "initdb"), "-D", str(data), "-U", "owner", "--auth=scram-sha-256", f"--pwfile={pw}")
    as_pg(
        str(bindir / "pg_ctl"),
        "-D",
        str(data),
        "-w",
        "-l",
        str(root / "log"),
        "-o",
        f"-p {port} -k {sock} -c listen_addresses=127.0.0.1",
        "start",
    )
    try:
        yield port
    finally:
        as_pg(str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop")
        shutil.rmtree(root, ignore_errors=True)


async def test_app_role_logs_in_with_the_password_secret(scram_pg: int, tmp_path: Path) -> None:
    owner = f"postgresql://owner:owner-pw@127.0.0.1:{scram_pg}/postgres"
    conn = await asyncpg.connect(owner)
    try:
        await migrate(conn)
        await conn.execute("ALTER ROLE aiops_app PASSWORD 'app-secret-pw'")
    finally:
        await conn.close()
    for name in ("slack_bot_token", "slack_signing_secret", "alertmanager_token"):
        (tmp_path / name).write_text("x")
    app_url = f"postgresql://aiops_app@127.0.0.1:{scram_pg}/postgres"
    creds = StoreCredentials(tmp_path)  # the password file is read on each new connection

    # without the secret file: refused by scram
    with pytest.raises(StoreUnavailable):
        async with open_database(database_url=app_url, data_dir=tmp_path, credentials=creds) as (pool, _):
            await pool.fetchval("SELECT 1")

    (tmp_path / "postgres_password").write_text("app-secret-pw\n")
    assert load_secrets(tmp_path).postgres_password is not None  # a known secret file
    async with open_database(database_url=app_url, data_dir=tmp_path, credentials=creds) as (pool, _):
        assert await pool.fetchval("SELECT current_user") == "aiops_app"
        await pool.execute(
            "INSERT INTO audit_events (event_type, user_id, agent_version) VALUES ('query','u','v')"
        )
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            await pool.execute("DELETE FROM audit_events")

    # a password in the URL wins over the secret file
    bad = f"postgresql://aiops_app:wrong@127.0.0.1:{scram_pg}/postgres"
    with pytest.raises(StoreUnavailable):
        async with open_database(database_url=bad, data_dir=tmp_path, credentials=creds) as (pool, _):
            pass
