"""Append-only audit log in PostgreSQL."""

from app.audit.events import AuditEvent, AuditSink, canonical_hash, sha256_hex

__all__ = ["AuditEvent", "AuditSink", "canonical_hash", "sha256_hex"]
