"""Sealed chains: a keyed MAC on every entry, so that a forged history is refused without the key.

The hash chain (``_history.py``) finds an entry that was changed and not
rehashed; anyone who can write the rows can also recompute every hash. A
seal is an HMAC-SHA-256 under a secret key the application holds, chained
like the hash: the seal of entry ``n`` covers the seal of entry ``n - 1`` (or,
for the first entry, the genesis hash, which names the methodology, its
version and the case id) and entry ``n``'s hash, which covers its content.
Without the key no one can make the seal of a changed, inserted, removed or
reordered entry, so a restore given the key trusts a sealed entry whose seal
verifies without running its guards again, and refuses one whose seal does
not.

A seal is written ``<key id>:<64 hex digits>``; the key id lets a ring hold
older keys for verifying while the current one seals (rotation).
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Iterable, Mapping
from typing import Final

import attrs

from resolveflow._shown import shown
from resolveflow.exceptions import InvalidInput

MIN_SECRET_BYTES: Final = 32
"""The shortest secret a key may have: HMAC-SHA-256 gets no stronger past its 32-byte output."""
MAX_KEYS: Final = 64
KEY_ID: Final = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,39}")
SEAL: Final = re.compile(r"([A-Za-z0-9][A-Za-z0-9._-]{0,39}):([0-9a-f]{64})")
_DOMAIN: Final = b"resolveflow.seal/1\n"  # seals are for nothing else, even under a reused key


def _keys(value: object) -> dict[str, bytes]:
    if not isinstance(value, Mapping) or not value:
        raise InvalidInput(
            "expected a mapping of key ids to secrets, like {'2026-12': secrets.token_bytes(32)}; "
            f"got {shown(value)}",
            argument="keys",
        )
    if len(value) > MAX_KEYS:
        raise InvalidInput(f"at most {MAX_KEYS} keys in a ring; got {len(value)}", argument="keys")
    out: dict[str, bytes] = {}
    for key_id, secret in value.items():
        if not isinstance(key_id, str) or not KEY_ID.fullmatch(key_id):
            raise InvalidInput(
                f"a key id is 1 to 40 letters, digits, '.', '_' or '-', starting with a letter or digit; "
                f"got {shown(key_id)}",
                argument="keys",
            )
        if not isinstance(secret, bytes) or len(secret) < MIN_SECRET_BYTES:
            raise InvalidInput(
                f"the secret of key {key_id!r} must be at least {MIN_SECRET_BYTES} bytes "
                "(secrets.token_bytes(32)); it is not",  # never shown: it is a secret
                argument="keys",
            )
        out[key_id] = bytes(secret)
    return out


@attrs.frozen(kw_only=True, repr=False)
class KeyRing:
    """The secret keys that seal and verify histories: the current one seals, every one verifies.

    Attributes:
        keys: key id -> secret (at least 32 bytes each; at most 64 keys).
        current: the id of the key new seals are made with.
        accept_unsealed: when True, an entry without a seal is replayed through
            its guards instead of being refused (for histories recorded before
            sealing was turned on; reseal them, then turn this off).

    Example:
        >>> import secrets
        >>> from resolveflow import KeyRing
        >>> ring = KeyRing(keys={"2026-12": secrets.token_bytes(32)}, current="2026-12")
        >>> ring.current, "token" in repr(ring)
        ('2026-12', False)
    """

    keys: Mapping[str, bytes] = attrs.field(converter=_keys)
    current: str
    accept_unsealed: bool = False

    def __attrs_post_init__(self) -> None:
        if not isinstance(self.current, str) or self.current not in self.keys:
            raise InvalidInput(
                f"current must be one of the ring's key ids {sorted(self.keys)}; got {shown(self.current)}",
                argument="current",
            )
        if not isinstance(self.accept_unsealed, bool):
            raise InvalidInput("expected True or False", argument="accept_unsealed")

    def __repr__(self) -> str:
        # The secrets never appear in a repr, a log line or a traceback.
        return (
            f"KeyRing(keys={sorted(self.keys)}, current={self.current!r}, "
            f"accept_unsealed={self.accept_unsealed})"
        )

    def seal(self, previous: str, entry_hash: str) -> str:
        """The seal of the entry hashed ``entry_hash``, after ``previous`` (a seal, or the genesis hash)."""
        return f"{self.current}:{_mac(self.keys[self.current], previous, entry_hash)}"

    def verifies(self, seal: object, previous: str, entry_hash: str) -> bool:
        """Whether ``seal`` is the seal of ``entry_hash`` after ``previous`` under one of the ring's keys."""
        if not isinstance(seal, str):
            return False
        match = SEAL.fullmatch(seal)
        if match is None:
            return False
        secret = self.keys.get(match.group(1))
        return secret is not None and hmac.compare_digest(_mac(secret, previous, entry_hash), match.group(2))


def _mac(secret: bytes, previous: str, entry_hash: str) -> str:
    message = _DOMAIN + previous.encode() + b"\n" + entry_hash.encode()
    return hmac.new(secret, message, hashlib.sha256).hexdigest()


def chain_seals(ring: KeyRing, genesis: str, hashes: list[str]) -> list[str]:
    """Seals for a whole history with the current key, in order."""
    seals: list[str] = []
    previous = genesis
    for entry_hash in hashes:
        seal = ring.seal(previous, entry_hash)
        seals.append(seal)
        previous = seal
    return seals


NOT_SEALED: Final = "the entry is not sealed, and the key ring does not accept unsealed entries"
NOT_VERIFIED: Final = (
    "its seal does not verify: the entry, or one before it, was changed without the key, "
    "or it was sealed with a key this ring does not hold"
)


def chained_on(seal: str | None, entry_hash: str) -> str:
    """What the next seal covers after an entry: its seal, or its hash when it has none."""
    return seal if seal is not None else entry_hash


def seal_problem(
    keys: KeyRing, previous: str, entries: Iterable[tuple[int, str, str | None]]
) -> tuple[int, str] | None:
    """The first of ``(seq, hash, seal)`` whose seal does not chain on from ``previous``, and why."""
    for seq, entry_hash, seal in entries:
        if seal is None:
            if not keys.accept_unsealed:
                return seq, NOT_SEALED
        elif not keys.verifies(seal, previous, entry_hash):
            return seq, NOT_VERIFIED
        previous = chained_on(seal, entry_hash)
    return None
