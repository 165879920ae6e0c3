"""Every error aiops raises on purpose.

    AiopsError
    ├── ConfigError          a setting or secret is missing/invalid → one line, exit 2
    ├── StoreUnavailable     Postgres/Redis/Qdrant unreachable (readiness, retries)
    ├── AuthFailure          the Slack user cannot be mapped to verified claims → refused, audited
    └── ToolError            a tool call failed; the message goes back to the model
        ├── ScopeDenied      the call reaches outside the effective scope → `security` audit event
        ├── SchemaInvalid    input or output does not match the tool's JSON schema
        ├── UnsafeQuery      PromQL that cannot be enforced (or_matchers, unknown node, …)
        ├── ResultTooLarge   the result exceeds the budget; message says how to narrow it
        ├── ToolTimeout      the backend did not answer in time
        └── BackendError     the backend answered with an error

Messages never contain secret values. ToolError messages are written for the model: they
name the exact query/arguments and how to correct them.
"""

from __future__ import annotations


class AiopsError(Exception):
    """Base class."""


class ConfigError(AiopsError):
    """A missing or invalid setting. `str()` is the single line printed at start-up."""

    def __init__(self, setting: str, reason: str) -> None:
        self.setting = setting
        self.reason = reason
        super().__init__(f"{setting}: {reason}")


class StoreUnavailable(AiopsError):
    """A backing store cannot be reached."""


class AuthFailure(AiopsError):
    """The user could not be authenticated/authorized.

    `reason` is a short machine code stored in `audit_events.failure_reason`
    (e.g. "unlinked", "token_expired", "bad_signature"); `user_message` is what the
    user sees in Slack and must tell them how to fix it.
    """

    def __init__(self, reason: str, user_message: str) -> None:
        self.reason = reason
        self.user_message = user_message
        super().__init__(reason)


class ToolError(AiopsError):
    """A tool call failed; `str()` is returned to the model as the tool's error."""


class ScopeDenied(ToolError):
    def __init__(self, message: str, *, namespace: str | None = None) -> None:
        self.namespace = namespace
        super().__init__(message)


class SchemaInvalid(ToolError):
    pass


class UnsafeQuery(ToolError):
    pass


class ResultTooLarge(ToolError):
    pass


class ToolTimeout(ToolError):
    pass


class BackendError(ToolError):
    pass
