"""Digest objects (BRIEF §3): one signed JSON document per exported UTC day, naming its export
object (key, version, SHA-256) and the previous digest's SHA-256 — CloudTrail's chain.

The signature covers the canonical JSON (sorted keys, no whitespace) of every field except
`signature`. Ed25519 with the `audit_signing_key` file by default; AWS KMS `Sign` when
`AIOPS_AUDIT_KMS_KEY_ID` is set. `key_id` names the key so keys can rotate: verify looks the
public key up by it (Ed25519: a fingerprint of the public key; KMS: the key's ARN).
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Protocol

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa

from kernel.errors import ConfigError

ED25519 = "Ed25519"
# KMS algorithms we sign with, in order of preference (moto: ECC_NIST_P256 and RSA keys).
KMS_ALGS = ("ECDSA_SHA_256", "RSASSA_PKCS1_V1_5_SHA_256", "RSASSA_PSS_SHA_256")

FIELDS = (
    "date",
    "object_key",
    "object_version_id",
    "object_sha256",
    "row_count",
    "first_id",
    "last_id",
    "first_ts",
    "last_ts",
    "previous_digest_sha256",
    "key_id",
    "signature_alg",
)


def canonical(obj: dict[str, Any]) -> bytes:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def signed_payload(digest: dict[str, Any]) -> bytes:
    return canonical({k: v for k, v in digest.items() if k != "signature"})


class Signer(Protocol):
    key_id: str
    alg: str

    def sign(self, data: bytes) -> bytes: ...


def ed25519_key_id(public: ed25519.Ed25519PublicKey) -> str:
    raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return "ed25519:" + hashlib.sha256(raw).hexdigest()[:16]


class Ed25519Signer:
    alg = ED25519

    def __init__(self, private_pem: str) -> None:
        try:
            key = serialization.load_pem_private_key(private_pem.encode(), password=None)
        except (ValueError, TypeError):
            raise ConfigError("secret audit_signing_key", "not a PEM PKCS#8 private key") from None
        if not isinstance(key, ed25519.Ed25519PrivateKey):
            raise ConfigError("secret audit_signing_key", "must be an Ed25519 key")
        self._key = key
        self.public_key = key.public_key()
        self.key_id = ed25519_key_id(self.public_key)

    def sign(self, data: bytes) -> bytes:
        return self._key.sign(data)


class KmsSigner:
    """AWS KMS `Sign` (the key never leaves KMS). `client` is a boto3 KMS client."""

    def __init__(self, client: Any, key_id: str) -> None:
        self._client = client
        info = client.get_public_key(KeyId=key_id)
        offered = info.get("SigningAlgorithms") or []
        algs = [a for a in KMS_ALGS if a in offered]
        if not algs:
            raise ConfigError("AIOPS_AUDIT_KMS_KEY_ID", f"key cannot sign with any of {', '.join(KMS_ALGS)}")
        self.alg = algs[0]
        self.key_id = str(info["KeyId"])  # the ARN: stable across aliases

    def sign(self, data: bytes) -> bytes:
        out = self._client.sign(KeyId=self.key_id, Message=data, MessageType="RAW", SigningAlgorithm=self.alg)
        return bytes(out["Signature"])


def sign_digest(fields: dict[str, Any], signer: Signer) -> dict[str, Any]:
    body = dict(fields, key_id=signer.key_id, signature_alg=signer.alg)
    body["signature"] = base64.b64encode(signer.sign(signed_payload(body))).decode()
    return body


@dataclass
class Verifier:
    """Public keys by key id (Ed25519), and a KMS client to fetch KMS public keys by ARN."""

    ed25519_keys: dict[str, ed25519.Ed25519PublicKey] = field(default_factory=dict)
    kms_client: Any = None
    _kms_cache: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_pems(cls, pems: Iterable[bytes], *, kms_client: Any = None) -> Verifier:
        keys: dict[str, ed25519.Ed25519PublicKey] = {}
        for pem in pems:
            for block in _pem_blocks(pem):
                key = serialization.load_pem_public_key(block)
                if isinstance(key, ed25519.Ed25519PublicKey):
                    keys[ed25519_key_id(key)] = key
        return cls(ed25519_keys=keys, kms_client=kms_client)

    def check(self, digest: dict[str, Any]) -> str | None:
        """None when the signature is valid, else why not (one line)."""
        try:
            sig = base64.b64decode(str(digest.get("signature", "")), validate=True)
        except ValueError:
            return "signature is not base64"
        data, alg, key_id = signed_payload(digest), digest.get("signature_alg"), str(digest.get("key_id"))
        try:
            if alg == ED25519:
                key = self.ed25519_keys.get(key_id)
                if key is None:
                    return f"unknown signing key {key_id}"
                key.verify(sig, data)
                return None
            if alg in KMS_ALGS:
                return self._check_kms(key_id, str(alg), sig, data)
        except InvalidSignature:
            return f"signature does not verify with key {key_id}"
        return f"unsupported signature_alg {alg!r}"

    def _check_kms(self, key_id: str, alg: str, sig: bytes, data: bytes) -> str | None:
        if self.kms_client is None:
            return f"KMS key {key_id} but no KMS client configured"
        if key_id not in self._kms_cache:
            der = self.kms_client.get_public_key(KeyId=key_id)["PublicKey"]
            self._kms_cache[key_id] = serialization.load_der_public_key(bytes(der))
        key = self._kms_cache[key_id]
        if alg == "ECDSA_SHA_256" and isinstance(key, ec.EllipticCurvePublicKey):
            key.verify(sig, data, ec.ECDSA(hashes.SHA256()))
        elif alg == "RSASSA_PKCS1_V1_5_SHA_256" and isinstance(key, rsa.RSAPublicKey):
            key.verify(sig, data, padding.PKCS1v15(), hashes.SHA256())
        elif alg == "RSASSA_PSS_SHA_256" and isinstance(key, rsa.RSAPublicKey):
            key.verify(sig, data, padding.PSS(padding.MGF1(hashes.SHA256()), 32), hashes.SHA256())
        else:
            return f"key {key_id} does not match signature_alg {alg}"
        return None


def _pem_blocks(pem: bytes) -> list[bytes]:
    end = b"-----END PUBLIC KEY-----"
    return [part + end for part in pem.split(end) if b"-----BEGIN PUBLIC KEY-----" in part]
