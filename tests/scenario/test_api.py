"""The REST API as a client sees it, over real HTTP against the running app, workers and the
Keycloak / Anthropic / Kubernetes simulators: tokens checked like Slack logins, the same scope,
router and audit rows, problem+json errors, no CORS, limits."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import uuid

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from sim.anthropic import SimReply
from tests.fixtures.kubernetes import k8s_cluster  # noqa: F401  (fixture)
from tests.scenario.api_fixtures import Api, api_fixture, keycloak_fixture  # noqa: F401  (fixtures)

PROBLEM = "application/problem+json"


def sse_events(text: str) -> list[tuple[str, dict]]:
    out = []
    for block in text.strip().split("\n\n"):
        lines = dict(line.split(": ", 1) for line in block.splitlines() if ": " in line)
        out.append((lines["event"], json.loads(lines["data"])))
    return out


async def test_whoami_from_a_verified_token(api: Api) -> None:
    status, body, _ = await api.call("GET", "/api/v1/whoami", api.token("sam"))
    assert status == 200
    assert body["username"] == "sam" and body["roles"] == ["viewer"] and body["namespaces"] == ["shop"]
    assert body["may_receive_recommendations"] is False
    status, body, _ = await api.call("GET", "/api/v1/whoami", api.token("root"))
    assert body["namespaces"] == "all" and body["may_run_jobs"] is True


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _hs256(claims: dict, secret: bytes, kid: str) -> str:
    """The classic confusion attack, built by hand (PyJWT refuses a PEM as an HMAC secret)."""
    head = _b64(json.dumps({"alg": "HS256", "typ": "JWT", "kid": kid}).encode())
    body = _b64(json.dumps(claims).encode())
    return f"{head}.{body}.{_b64(hmac.new(secret, f'{head}.{body}'.encode(), hashlib.sha256).digest())}"


def _forged(api: Api) -> dict[str, str | None]:
    kc, user = api.kc, api.kc.users["sam"]
    claims = kc.access_claims(user)
    other_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    public_pem = kc.signing_key[1].public_key().public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo)
    return {
        "no token": None,
        "alg none": jwt.encode(claims, None, algorithm="none", headers={"kid": kc.signing_key[0]}),
        "HS256 with the public key": _hs256(claims, public_pem, kc.signing_key[0]),
        "another key": kc.mint(claims, key=other_key),
        "unknown kid": kc.mint(claims, kid="not-a-kid"),
        "expired": kc.mint({**claims, "exp": claims["iat"] - 3600, "iat": claims["iat"] - 7200}),
        "wrong audience": kc.mint({**claims, "aud": "someone-else"}),
        "wrong issuer": kc.mint({**claims, "iss": "http://127.0.0.1:1/realms/evil"}),
        "no exp": kc.mint({k: v for k, v in claims.items() if k != "exp"}),
        "refresh-type token": kc.mint({**claims, "typ": "Refresh"}),
        "namespaces as a string": kc.mint({**claims, "aiops_namespaces": "shop|payments"}),
        "namespace regex": kc.mint({**claims, "aiops_namespaces": [".*"]}),
        "garbage": "not.a.jwt",
    }


async def test_every_forged_token_class_is_refused_and_audited(api: Api) -> None:
    forged = _forged(api)
    for name, token in forged.items():
        status, body, headers = await api.call("GET", "/api/v1/whoami", token)
        assert status == 401, name
        assert headers["Content-Type"].startswith(PROBLEM) and body["status"] == 401, name
        assert "Bearer" in headers["WWW-Authenticate"], name
    rows = await api.harness.audit_rows("auth_failure", user_id="system:api")
    assert len(rows) == len(forged) - 1  # all but the missing header, which is not an attempt
    assert {r["ip_address"].compressed if r["ip_address"] else None for r in rows} == {"127.0.0.1"}


async def test_no_role_is_forbidden(api: Api) -> None:
    status, body, _ = await api.call("GET", "/api/v1/whoami", api.token("nobody"))
    assert status == 403 and "no aiops role" in body["detail"]


async def test_ask_as_json_goes_through_the_workers_and_writes_the_slack_audit_rows(api: Api) -> None:
    api.harness.anthropic.script(
        [
            SimReply(tool_uses=[("k8s_list", {"kind": "pod", "namespace": "shop"})]),
            SimReply(text="checkout looks healthy."),
        ]
    )
    status, body, _ = await api.call(
        "POST", "/api/v1/ask", api.token("sam"), json={"question": "how is shop?"}
    )
    assert status == 200, body
    assert body["status"] == "final" and body["text"] == "checkout looks healthy."
    row = await api.harness.wait_audit_row(body["audit_id"])
    sub = api.kc.users["sam"].id
    assert row["event_type"] == "query" and row["user_id"] == sub and row["user_message"] == "how is shop?"
    assert row["session_id"] == f"api:{sub}:{body['conversation_id']}"
    calls = await api.harness.audit_rows("tool_call", session_id=row["session_id"])
    assert len(calls) == 1 and "k8s_list" in str(calls[0]["tool_calls"])


async def test_ask_streams_server_sent_events_in_order(api: Api) -> None:
    api.harness.anthropic.script([SimReply(text="Everything in shop is fine.", chunk_chars=4)])
    status, text, headers = await api.call(
        "POST",
        "/api/v1/ask",
        api.token("ana"),
        json={"question": "status?"},
        headers={"Accept": "text/event-stream"},
    )
    assert status == 200 and headers["Content-Type"].startswith("text/event-stream")
    events = sse_events(text)
    kinds = [k for k, _ in events]
    assert kinds[0] == "conversation" and kinds[-1] == "final" and kinds.count("delta") > 3
    assert "".join(d["text"] for k, d in events if k == "delta").strip() == "Everything in shop is fine."
    assert events[-1][1]["audit_id"] == events[0][1]["audit_id"]


async def test_viewer_of_shop_cannot_reach_payments(api: Api) -> None:
    token = api.token("sam")
    status, body, _ = await api.call(
        "POST", "/api/v1/ask", token, json={"question": "x", "namespace": "payments"}
    )
    assert status == 403 and "payments" in body["detail"]
    # asking without a namespace, the model is steered at payments: the router refuses it
    api.harness.anthropic.script(
        [
            SimReply(tool_uses=[("k8s_list", {"kind": "pod", "namespace": "payments"})]),
            SimReply(text="done"),
        ]
    )
    status, body, _ = await api.call("POST", "/api/v1/ask", token, json={"question": "payments pods?"})
    assert status == 200
    saw = json.dumps(api.harness.anthropic.requests[-1])
    assert "payments-api" not in saw and "payments-db" not in saw
    security = await api.harness.audit_rows("security")
    assert any(r["namespace"] == "payments" or "payments" in str(r["failure_reason"]) for r in security)


async def test_investigations_and_audit_entries_are_for_the_asker_or_admins(api: Api) -> None:
    api.harness.anthropic.script([SimReply(text="answer for ana")])
    _, asked, _ = await api.call("POST", "/api/v1/ask", api.token("ana"), json={"question": "q?"})
    audit_id = asked["audit_id"]
    await api.harness.wait_audit_row(audit_id)
    status, inv, _ = await api.call("GET", f"/api/v1/investigations/{audit_id}", api.token("ana"))
    assert status == 200 and inv["question"] == "q?" and inv["answer"] == "answer for ana"
    for path in (f"/api/v1/investigations/{audit_id}", f"/api/v1/audit/{audit_id}"):
        status, body, _ = await api.call("GET", path, api.token("sam"))
        assert status == 403 and "who asked" in body["detail"], path
        status, _, _ = await api.call("GET", path, api.token("root"))
        assert status == 200, path
    status, entry, _ = await api.call("GET", f"/api/v1/audit/{audit_id}", api.token("ana"))
    assert status == 200 and entry["query"]["id"] == audit_id and entry["query"]["response_hash"]
    assert (await api.call("GET", f"/api/v1/investigations/{uuid.uuid4()}", api.token("root")))[0] == 404
    assert (await api.call("GET", "/api/v1/investigations/not-a-uuid", api.token("root")))[0] == 400
    # conversations: own only
    _, mine, _ = await api.call("GET", "/api/v1/conversations", api.token("ana"))
    _, theirs, _ = await api.call("GET", "/api/v1/conversations", api.token("sam"))
    assert [c["first_question"] for c in mine["conversations"]] == ["q?"] and theirs["conversations"] == []


async def test_audit_browsing_is_admin_only_with_filters(api: Api) -> None:
    api.harness.anthropic.script([SimReply(text="a")])
    _, asked, _ = await api.call("POST", "/api/v1/ask", api.token("sam"), json={"question": "filter me"})
    await api.harness.wait_audit_row(asked["audit_id"])
    status, body, _ = await api.call("GET", "/api/v1/audit", api.token("sam"))
    assert status == 403 and body["title"] == "Forbidden"
    sub = api.kc.users["sam"].id
    status, body, _ = await api.call("GET", f"/api/v1/audit?type=query&user={sub}", api.token("root"))
    assert status == 200 and [e["user_message"] for e in body["events"]] == ["filter me"]
    assert (await api.call("GET", "/api/v1/audit?since=yesterday", api.token("root")))[0] == 400
    assert (await api.call("GET", "/api/v1/audit?limit=100000", api.token("root")))[0] == 400
    await api.harness.pg.execute(  # the newest stored run of `aiops audit verify`
        "INSERT INTO audit_verify_runs (finished_at, ok, days_checked, last_verified_day, problems) "
        "VALUES (now() + interval '1 hour', false, 7, '2026-11-27', $1::jsonb)",
        json.dumps([{"day": "2026-11-28", "kind": "row modified", "detail": "api-test-marker"}]),
    )
    status, body, _ = await api.call("GET", "/api/v1/audit/verify", api.token("root"))
    assert status == 200 and body["ok"] is False and body["days_checked"] == 7
    assert body["problems"][0]["detail"] == "api-test-marker"
    assert (await api.call("GET", "/api/v1/audit/verify", api.token("sam")))[0] == 403


@pytest.mark.parametrize(
    ("body", "why"),
    [
        ("[" * 10_000 + "]" * 10_000, "nested deeper"),
        ('["a list"]', "JSON object"),
        ("{not json", "not valid JSON"),
        ('{"question": ""}', "non-empty"),
        ('{"question": "x", "namespace": "a|b"}', "namespace name"),
    ],
)
async def test_bad_bodies_get_400_problems(api: Api, body: str, why: str) -> None:
    status, problem, headers = await api.call(
        "POST", "/api/v1/ask", api.token("sam"), data=body, headers={"Content-Type": "application/json"}
    )
    assert status == 400 and why in problem["detail"] and headers["Content-Type"].startswith(PROBLEM)


async def test_oversized_body_cors_and_rate_limit(api: Api) -> None:
    token = api.token("sam")
    status, problem, _ = await api.call("POST", "/api/v1/ask", token, data="x" * 200_000)
    assert status == 413 and problem["status"] == 413
    status, _, headers = await api.call(
        "OPTIONS",
        "/api/v1/ask",
        headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "POST"},
    )
    assert status == 403 and "Access-Control-Allow-Origin" not in headers
    statuses = []
    for _ in range(6):  # AIOPS_API_ASK_PER_MINUTE=5 in the fixture; the 413 above was the first
        s, _, h = await api.call("POST", "/api/v1/ask", token, data="[1]")
        statuses.append(s)
    assert statuses == [400] * 4 + [429, 429]
    assert int(h["Retry-After"]) <= 60


async def test_openapi_document_validates(api: Api) -> None:
    from openapi_spec_validator import validate

    status, doc, _ = await api.call("GET", "/api/v1/openapi.json")
    assert status == 200
    validate(doc)
    assert set(doc["paths"]) >= {
        "/api/v1/ask",
        "/api/v1/whoami",
        "/api/v1/conversations",
        "/api/v1/investigations/{id}",
        "/api/v1/audit",
        "/api/v1/audit/{id}",
        "/api/v1/audit/verify",
    }
    status, page, headers = await api.call("GET", "/api/v1/docs")
    assert status == 200 and "script-src 'self'" in headers["Content-Security-Policy"] and "<label" in page
