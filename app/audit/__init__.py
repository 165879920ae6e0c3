"""Append-only audit log in PostgreSQL."""

from kernel.audit import AuditEvent, AuditSink, canonical_hash, sha256_hex

__all__ = ["AuditEvent", "AuditSink", "canonical_hash", "sha256_hex"]
