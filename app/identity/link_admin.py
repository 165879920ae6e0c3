"""`identity` audit events and `/aiops links` (admins list and revoke Slack ↔ Keycloak links).

Event rows: user_id = the Slack user whose link changed (the admin's Slack id for a revoke,
with the target in the details); `failure_reason` carries the action — `link`, `relink`,
`unlink`, `unlink_by_admin`, `link_refused:<check>` — and `tool_calls` the ids involved (never
a token). Listing the links writes one `admin` row.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from app.identity import messages
from app.identity.provider import LinkingProvider
from kernel.audit import AuditEvent, AuditSink, EventType
from kernel.scope import Identity

log = logging.getLogger(__name__)

_USER_RE = re.compile(r"<@([UW][A-Z0-9]{2,31})(?:\|[^>]*)?>|\b([UW][A-Z0-9]{2,31})\b")
MAX_LISTED = 200


async def audit_identity(
    audit: AuditSink,
    *,
    user_id: str,
    action: str,
    event_type: EventType = "identity",
    **detail: Any,
) -> None:
    event = AuditEvent(
        event_type=event_type,
        user_id=user_id,
        failure_reason=action,
        tool_calls=[{"action": action, **detail}],
    )
    try:
        await audit.write(event)
    except Exception as exc:  # the change itself stands; the log says the row is missing
        log.error("identity: could not write the %s audit row (%s)", action, type(exc).__name__)


async def links_command(
    text: str, *, admin: Identity, is_admin: bool, provider: LinkingProvider, audit: AuditSink
) -> str:
    """`/aiops links` → the list; `/aiops links revoke <user>` → unlink that user."""
    if not is_admin:
        return messages.LINKS_ADMIN_ONLY
    words = text.split()
    if len(words) >= 2 and words[1].lower() == "revoke":
        match = _USER_RE.search(" ".join(words[2:]))
        if match is None:
            return messages.LINKS_USAGE
        target = match.group(1) or match.group(2)
        subject = await provider.linked_subject(target)
        removed = await provider.logout(target)
        if not removed:
            return messages.LINK_NOT_FOUND.format(user=f"<@{target}>")
        await audit_identity(
            audit, user_id=admin.slack_user_id, action="unlink_by_admin", target=target, subject=subject
        )
        return messages.LINK_REVOKED.format(user=f"<@{target}>")
    if len(words) > 1:
        return messages.LINKS_USAGE
    links = await provider.all_links()
    await audit_identity(
        audit, user_id=admin.slack_user_id, action="list_links", event_type="admin", count=len(links)
    )
    if not links:
        return messages.LINKS_NONE
    lines = [f"• <@{user}> → `{subject}`" for user, subject in links[:MAX_LISTED]]
    more = f"\n…and {len(links) - MAX_LISTED} more" if len(links) > MAX_LISTED else ""
    return f"*{len(links)} linked Slack user(s)* (Keycloak subject):\n" + "\n".join(lines) + more
