"""The router's usual case in one pass: a result with nothing out of scope, nothing blocked and
(almost) nothing to sanitize. `clean_in_scope` checks every namespace and sanitizes every string
in the same walk, and copies only the dicts and lists on the path to a value it changed (an env
value redacted, an injection withheld), so the clean bulk of a result costs one set lookup per
key and value. Whenever the second layer would have to drop something, or the result holds a
shape the walk does not know, it raises `NeedsFilter` and the router takes the full path: the
copying scope filter (tools/scope_filter.py), then `sanitize.clean`.

The contract, checked by property tests against the plain walks: `clean_in_scope(r)` raises
exactly when `scope_filter.walk` would drop something from `r` or `r` is not plain JSON, and
otherwise returns what `sanitize.clean(r)` returns, with the same report."""

from __future__ import annotations

from typing import Any

from kernel.scope import EffectiveScope
from tools import sanitize


class NeedsFilter(Exception):
    """A namespace outside the scope (or not a string), or a type other than plain JSON."""


_PLAIN = frozenset({int, float, bool, type(None)})


def clean_in_scope(
    obj: Any, scope: EffectiveScope, *, long_text_fields: frozenset[str], max_label_chars: int
) -> tuple[Any, sanitize.Report]:
    """`sanitize.clean(obj)` for a plain-JSON result the second layer would pass whole; else NeedsFilter.
    Only for a label cap of at least MAX_LABEL_CHARS (the clean-string cache's own bound)."""
    if max_label_chars < sanitize.MAX_LABEL_CHARS:
        raise NeedsFilter
    walk = _Walk(scope, long_text_fields, max_label_chars, defer=True)
    cleaned = walk.run(obj)
    if walk.deferred and _changes_any(walk.deferred, max_label_chars):
        walk = _Walk(scope, long_text_fields, max_label_chars, defer=False)  # one by one this time
        cleaned = walk.run(obj)
    return cleaned, walk.report


def _changes_any(deferred: list[str], cap: int) -> bool:
    """Would sanitizing change any of these labels (taken as they are while walking)? Most are
    vouched for in one scan; the rest (a secret-key name such as DB_PASSWORD, anything suspect)
    are asked of `clean_label` one by one, as the walk would have."""
    sanitize.learn_clean(deferred)
    clean = sanitize._CLEAN
    for text in deferred:
        if text not in clean:
            c = sanitize.label(text, cap)
            if c.injection or c.text != text:
                return True
    return False


class _Walk:
    def __init__(self, scope: EffectiveScope, long: frozenset[str], cap: int, *, defer: bool) -> None:
        self.scope, self.long, self.cap = scope, long, cap
        self.prose = bool(long)  # most tools have no long-text fields: no lookup per value then
        self.report = sanitize.Report()
        # the sanitizer's sets (never rebound, only cleared) held here: the compiled walk reads
        # an attribute of its own instead of another module's global, thousands of times a call
        self.clean, self.names, self.plain = sanitize._CLEAN, sanitize._CLEAN_NAMES, _PLAIN
        self.allowed: set[str] = set()  # namespaces already checked in this result
        self.defer = defer
        self.deferred: list[str] = []
        """New strings in label position, left as they are until `learn_clean` vouches for them
        all at once (a hundred new pod names cost one scan instead of a hundred detections)."""

    def run(self, obj: Any) -> Any:
        t = type(obj)
        if t is dict:
            return self.mapping(obj)
        if t is list:
            return self.sequence(obj, None)
        if t is str:
            return self.string(obj, None)
        if t in self.plain:
            return obj
        raise NeedsFilter

    def string(self, text: str, key: str | None) -> str:
        clean = self.clean  # holds no secret-key names, so a clean key needs no redaction
        if key is None or (key in clean and not (self.prose and key in self.long)):  # a label
            if text in clean or text in self.names:
                return text
            if self.defer and len(text) <= sanitize.MAX_LABEL_CHARS:
                self.deferred.append(text)
                return text
        return sanitize._clean_str(text, key, self.long, self.cap, self.report)

    def namespace(self, ns: Any) -> None:
        if type(ns) is not str:
            raise NeedsFilter
        if ns not in self.allowed:
            if not self.scope.allows(ns):
                raise NeedsFilter
            self.allowed.add(ns)

    def mapping(self, obj: dict[Any, Any]) -> dict[Any, Any]:
        if "namespace" in obj:
            self.namespace(obj["namespace"])
        clean, long, plain, prose = self.clean, self.long, self.plain, self.prose
        if "value" in obj:
            name = obj.get("name")
            if type(name) is str and sanitize.is_secret_key(name):
                return self.rebuild(obj)  # `{"name": "DB_PASSWORD", "value": …}`: the value goes
        out: dict[Any, Any] | None = None
        done = 0
        for k, v in obj.items():
            if k not in clean:  # a key the sanitizer changes, or one that is not a string (rare)
                return self.rebuild(obj, done, out)
            done += 1
            tv = type(v)
            if tv is str:
                if v in clean and not (prose and k in long):
                    continue  # the bulk: a clean value under a clean key
                new: Any = self.string(v, k)
            elif tv is dict:
                new = self.mapping(v)
            elif tv is list:
                new = self.sequence(v, k)
            elif tv in plain:
                continue
            else:
                raise NeedsFilter
            if new is not v:
                if out is None:
                    out = dict(obj)
                out[k] = new
        return obj if out is None else out

    def rebuild(
        self, obj: dict[Any, Any], done: int = 0, walked: dict[Any, Any] | None = None
    ) -> dict[str, Any]:
        """`sanitize._clean_dict` for the rare dict whose keys or env value change, with the
        nested values still walked here (so their namespaces are checked too). `mapping` found
        the first `done` keys clean and has walked their values (the changed ones are in
        `walked`, a copy of `obj`): they are taken as they are, in the same order."""
        out: dict[str, Any] = {}
        name = obj.get("name")
        secret_env = type(name) is str and "value" in obj and sanitize.is_secret_key(name)
        source = obj if walked is None else walked
        for k, v in obj.items():
            if len(out) < done:
                out[k] = source[k]
                continue
            key = k if type(k) is str else str(k)
            new_key = self.key(key, len(out))  # before the value, as the full path reports them
            tv = type(v)
            if tv is str:
                if secret_env and k == "value" and v:
                    self.report.redactions += 1
                    new: Any = sanitize.REDACTED
                else:
                    new = self.string(v, key)
            elif tv is dict:
                new = self.mapping(v)
            elif tv is list:
                new = self.sequence(v, key)
            elif tv in self.plain:
                new = v
            else:
                raise NeedsFilter
            out[new_key] = new
        return out

    def key(self, key: str, position: int) -> str:
        if key in self.clean:
            return key
        c = sanitize.label(key, self.cap)
        if c.injection:
            self.report.injections.append(key)
            self.report.kinds.add(c.injection)
            return f"{sanitize.MARKER_INJECTION} #{position}"
        return c.text

    def sequence(self, obj: list[Any], key: str | None) -> list[Any]:
        out: list[Any] | None = None
        for i, v in enumerate(obj):
            tv = type(v)
            if tv is str:
                new: Any = self.string(v, key)
            elif tv is dict:
                new = self.mapping(v)
            elif tv is list:
                new = self.sequence(v, key)
            elif tv in self.plain:
                continue
            else:
                raise NeedsFilter
            if new is not v:
                if out is None:
                    out = list(obj)
                out[i] = new
        return obj if out is None else out
