"""Secret rotation without a restart: kubelet / Vault Agent swap the files, the watcher re-reads
them, and the very next Slack call, Anthropic request and signature check use the new values
(the simulators reject the old ones) while the log masking learns them."""

from __future__ import annotations

import logging
import secrets as pysecrets
from pathlib import Path

from aiops.cli import SecretMaskFilter
from sim.slack_events import SlackEventSender
from tests.scenario.conftest import ALICE, CHANNEL, HarnessFactory


async def test_rotated_slack_token_anthropic_key_and_signing_secret_apply_at_once(
    make_harness: HarnessFactory, tmp_path: Path
) -> None:
    h = await make_harness(watch_secrets=True)
    assert h.runtime.watcher is not None
    first = await h.sender.mention(ALICE, CHANNEL, "is checkout healthy?")
    await h.wait_answer(CHANNEL, first.payload["event"]["ts"])  # type: ignore[index]
    mask = SecretMaskFilter([])
    h.runtime.watcher.subscribe(lambda _name, value: mask.add(value))

    new = {"slack_bot_token": f"xoxb-rotated-{pysecrets.token_hex(8)}",
           "anthropic_api_key": f"sk-ant-rotated-{pysecrets.token_hex(8)}",
           "slack_signing_secret": f"rotated-signing-{pysecrets.token_hex(8)}"}
    secrets_dir = Path(h.env["AIOPS_SECRETS_DIR"])
    h.slack.bot_token, h.anthropic.api_key = new["slack_bot_token"], new["anthropic_api_key"]
    for name, value in new.items():  # what kubelet does: new content under the same name
        tmp = secrets_dir / f".{name}.tmp"
        tmp.write_text(value + "\n")
        tmp.replace(secrets_dir / name)
    assert sorted(h.runtime.watcher.check()) == sorted(new)

    old_sender = h.sender
    assert (await old_sender.mention(ALICE, CHANNEL, "old signature")).status == 401
    sender = SlackEventSender(url=h.url + "slack/events", signing_secret=new["slack_signing_secret"],
                              sim=h.slack)
    calls_before, model_before = len(h.slack.calls), len(h.anthropic.requests)
    second = await sender.mention(ALICE, CHANNEL, "and now?")
    assert second.status == 200
    await h.wait_answer(CHANNEL, second.payload["event"]["ts"])  # type: ignore[index]
    after = h.slack.calls[calls_before:]
    assert after and {c.token for c in after} == {new["slack_bot_token"]}  # every call: new token
    assert len(h.anthropic.requests) > model_before  # the sim accepts only the new key

    record = logging.LogRecord("t", logging.INFO, __file__, 1, "token %s key %s",
                               (new["slack_bot_token"], new["anthropic_api_key"]), None)
    mask.filter(record)
    assert record.getMessage() == "token *** key ***"
