"""The terminal client: `aiops login | ask | whoami | logout` against the REST API.

Needs no server setting and no secret — only the API's address (`--api-url` or AIOPS_API_URL).
`login` runs Keycloak's device flow with the public client the API names
(`/api/v1/auth/config`) and keeps the tokens in `$XDG_CONFIG_HOME/aiops/token.json` (mode 0600,
refreshed when the access token expires); `ask` streams the answer, then prints its evidence and
audit id. Exit codes: 0 done, 1 refused or failed, 2 not configured / not logged in, 3 unreachable.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import time
from collections.abc import Coroutine
from pathlib import Path
from typing import Any, TextIO

import aiohttp

CLIENT_COMMANDS = frozenset({"login", "ask", "whoami", "logout"})
DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"


class ClientError(Exception):
    def __init__(self, message: str, code: int = 1) -> None:
        super().__init__(message)
        self.code = code


def add_client_commands(sub: Any) -> None:
    for name, text in (
        ("login", "log in to the aiops API (Keycloak device flow)"),
        ("whoami", "who the API says you are"),
        ("logout", "forget the stored tokens"),
    ):
        sub.add_parser(name, help=text).add_argument("--api-url", help="default: $AIOPS_API_URL")
    ask = sub.add_parser("ask", help="ask the agent through the API; the answer streams here")
    ask.add_argument("question")
    ask.add_argument("--namespace", help="narrow the question to one of your namespaces")
    ask.add_argument("--api-url", help="default: $AIOPS_API_URL")


def token_path() -> Path:
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "aiops" / "token.json"


def run_client(args: argparse.Namespace, out: TextIO = sys.stdout) -> Coroutine[Any, Any, int]:
    return _run(args, out)


async def _run(args: argparse.Namespace, out: TextIO) -> int:
    try:
        if args.command == "logout":
            return _logout(out)
        api = _api_url(args)
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=None, sock_connect=10)) as http:
            if args.command == "login":
                return await _login(http, api, out)
            token = await _access_token(http, api)
            if args.command == "whoami":
                return await _whoami(http, api, token, out)
            return await _ask(http, api, token, args.question, args.namespace, out)
    except ClientError as exc:
        print(f"aiops: {exc}", file=sys.stderr)
        return exc.code
    except aiohttp.ClientError as exc:
        print(f"aiops: the API is unreachable ({type(exc).__name__})", file=sys.stderr)
        return 3


def _api_url(args: argparse.Namespace) -> str:
    url = getattr(args, "api_url", None) or os.environ.get("AIOPS_API_URL")
    if not url or not url.startswith(("http://", "https://")):
        raise ClientError(
            "set AIOPS_API_URL (or --api-url) to the aiops API's address, e.g. https://aiops.example.com", 2
        )
    return url.rstrip("/")


async def _json(resp: aiohttp.ClientResponse) -> dict[str, Any]:
    try:
        body = await resp.json(content_type=None)
    except (json.JSONDecodeError, aiohttp.ContentTypeError):
        raise ClientError(f"unexpected answer from the server (HTTP {resp.status})") from None
    return body if isinstance(body, dict) else {}


def _problem(body: dict[str, Any], status: int) -> ClientError:
    detail = body.get("detail") or body.get("error_description") or body.get("error") or f"HTTP {status}"
    return ClientError(str(detail), 2 if status == 401 else 1)


# ---- login / tokens ---------------------------------------------------------------------------


async def _login(http: aiohttp.ClientSession, api: str, out: TextIO) -> int:
    async with http.get(f"{api}/api/v1/auth/config") as resp:
        config = await _json(resp)
    async with http.post(
        config["device_authorization_endpoint"], data={"client_id": config["client_id"], "scope": "openid"}
    ) as resp:
        device = await _json(resp)
        if resp.status != 200:
            raise _problem(device, resp.status)
    link = device.get("verification_uri_complete") or device["verification_uri"]
    print(f"Open {link} and confirm the code {device['user_code']}.", file=out, flush=True)
    interval = float(device.get("interval", 5))
    deadline = time.monotonic() + float(device.get("expires_in", 600))
    while time.monotonic() < deadline:
        await asyncio.sleep(interval)
        grant = {
            "grant_type": DEVICE_GRANT,
            "device_code": device["device_code"],
            "client_id": config["client_id"],
        }
        async with http.post(config["token_endpoint"], data=grant) as resp:
            body = await _json(resp)
        if resp.status == 200:
            _save(api, config, body)
            print("Logged in.", file=out)
            return 0
        error = body.get("error")
        if error == "slow_down":
            interval += 5
        elif error != "authorization_pending":
            raise ClientError(
                {
                    "expired_token": "the code expired: run 'aiops login' again",
                    "access_denied": "the login was denied",
                }.get(str(error), f"login failed ({error})")
            )
    raise ClientError("the code expired: run 'aiops login' again")


def _save(api: str, config: dict[str, Any], tokens: dict[str, Any]) -> None:
    path = token_path()
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    record = {
        "api_url": api,
        "token_endpoint": config["token_endpoint"],
        "client_id": config["client_id"],
        "access_token": tokens["access_token"],
        "refresh_token": tokens.get("refresh_token"),
        "expires_at": time.time() + float(tokens.get("expires_in", 300)),
    }
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        os.fchmod(f.fileno(), 0o600)  # an older file may have had wider bits
        json.dump(record, f)


async def _access_token(http: aiohttp.ClientSession, api: str) -> str:
    try:
        record = json.loads(token_path().read_text())
    except (FileNotFoundError, json.JSONDecodeError):
        raise ClientError("not logged in: run 'aiops login'", 2) from None
    if record.get("api_url") != api:
        raise ClientError(f"logged in to {record.get('api_url')}, not {api}: run 'aiops login'", 2)
    if record["expires_at"] - 30 > time.time():
        return str(record["access_token"])
    if not record.get("refresh_token"):
        raise ClientError("your session expired: run 'aiops login'", 2)
    grant = {
        "grant_type": "refresh_token",
        "refresh_token": record["refresh_token"],
        "client_id": record["client_id"],
    }
    async with http.post(record["token_endpoint"], data=grant) as resp:
        body = await _json(resp)
    if resp.status != 200:
        raise ClientError("your session expired: run 'aiops login'", 2)
    _save(api, record, body)
    return str(body["access_token"])


def _logout(out: TextIO) -> int:
    path = token_path()
    existed = path.exists()
    path.unlink(missing_ok=True)
    print("Logged out." if existed else "You were not logged in.", file=out)
    return 0


# ---- questions --------------------------------------------------------------------------------


async def _whoami(http: aiohttp.ClientSession, api: str, token: str, out: TextIO) -> int:
    async with http.get(f"{api}/api/v1/whoami", headers={"Authorization": f"Bearer {token}"}) as resp:
        body = await _json(resp)
        if resp.status != 200:
            raise _problem(body, resp.status)
    namespaces = body["namespaces"] if isinstance(body["namespaces"], str) else ", ".join(body["namespaces"])
    print(f"{body['username']} ({', '.join(body['roles'])}) — namespaces: {namespaces or 'none'}", file=out)
    return 0


async def _ask(
    http: aiohttp.ClientSession, api: str, token: str, question: str, namespace: str | None, out: TextIO
) -> int:
    payload: dict[str, Any] = {"question": question, "stream": True}
    if namespace:
        payload["namespace"] = namespace
    headers = {"Authorization": f"Bearer {token}", "Accept": "text/event-stream"}
    async with http.post(f"{api}/api/v1/ask", json=payload, headers=headers) as resp:
        if resp.status != 200:
            raise _problem(await _json(resp), resp.status)
        async for event, data in _sse(resp):
            if event == "delta":
                out.write(data["text"])
                out.flush()
            elif event == "final":
                _final(data, out)
                return 0
            elif event == "error":
                print(f"\n{data['text']}\naudit id: {data.get('audit_id')}", file=out)
                return 1
    raise ClientError("the answer stream ended early")


def _final(data: dict[str, Any], out: TextIO) -> None:
    print("\n", file=out)
    if data.get("evidence"):
        print("Evidence:", file=out)
        for item in data["evidence"]:
            print(f"  - {item}", file=out)
    print(f"audit id: {data['audit_id']}", file=out)


async def _sse(resp: aiohttp.ClientResponse) -> Any:
    event, data = "message", list[str]()
    async for raw in resp.content:
        line = raw.decode().rstrip("\r\n")
        if not line:
            if data:
                yield event, json.loads("\n".join(data))
            event, data = "message", []
        elif line.startswith("event:"):
            event = line[6:].strip()
        elif line.startswith("data:"):
            data.append(line[5:].strip())
