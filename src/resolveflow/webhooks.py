"""Signed webhooks as receivers expect them: the Standard Webhooks convention, sender and receiver.

A webhook request carries three headers (https://www.standardwebhooks.com):

- ``webhook-id``: the message's id, the same on every retry; receivers
  de-duplicate by it;
- ``webhook-timestamp``: when this attempt was signed, in integer seconds
  since the Unix epoch;
- ``webhook-signature``: one or more space-separated ``v1,<base64>`` entries,
  each the HMAC-SHA256 of ``{id}.{timestamp}.{body}`` under one secret (two
  entries while a secret rotates).

A secret is 24 to 64 random bytes, written ``whsec_<base64>``
(:class:`Secret`). :func:`sign` makes the headers for a body; :func:`verify`
checks them on the receiving side, in constant time, within a tolerance of
the receiver's clock, and returns the JSON payload. Every input, however
hostile, ends in :class:`~resolveflow.exceptions.WebhookVerificationError`
(the request does not verify) or
:class:`~resolveflow.exceptions.InvalidInput` (a call argument is wrong); no
message ever shows a secret. Time and memory are bounded by the size of the
input: header values, the number of headers, signatures and secrets are
capped (the ``MAX_*`` constants).

Example:
    >>> from resolveflow.webhooks import Secret, sign, verify
    >>> secret = Secret.generate()
    >>> body = b'{"type": "case.opened"}'
    >>> headers = sign(body, msg_id="evt_1", secrets=[secret], timestamp=1767603600)
    >>> sorted(headers)
    ['webhook-id', 'webhook-signature', 'webhook-timestamp']
    >>> verify(body, headers, [secret], now=1767603660)
    {'type': 'case.opened'}
"""

from __future__ import annotations

import base64
import binascii
import datetime as _dt
import hashlib
import hmac
import itertools
import json
import re
import secrets as _secrets
from collections.abc import Iterable, Sequence
from typing import Any, Final, Literal, Protocol, final, overload

from resolveflow._clock import Clock, check_time, system_clock
from resolveflow._shown import shown
from resolveflow.exceptions import InvalidInput, ResolveflowError, WebhookVerificationError

__all__ = [
    "DEFAULT_TOLERANCE",
    "MAX_HEADERS",
    "MAX_ID_CHARS",
    "MAX_SECRETS",
    "MAX_SECRET_BYTES",
    "MAX_SIGNATURES",
    "MAX_SIGNATURE_CHARS",
    "MIN_SECRET_BYTES",
    "SECRET_PREFIX",
    "Secret",
    "WebhookVerificationError",
    "message_id",
    "sign",
    "verify",
]

SECRET_PREFIX: Final = "whsec_"
"""How a webhook secret is written: ``whsec_`` then the secret's bytes in standard base64."""
MIN_SECRET_BYTES: Final = 24
"""The shortest secret: the spec asks for at least 24 random bytes (192 bits)."""
MAX_SECRET_BYTES: Final = 64
"""The longest secret: the spec's maximum of 512 bits (64 bytes)."""
DEFAULT_TOLERANCE: Final = 300
"""How far (in seconds) a request's timestamp may be from the receiver's clock, either way: 5 minutes."""
MAX_SECRETS: Final = 16
"""The most secrets one :func:`sign` or :func:`verify` call takes (rotation needs two)."""
MAX_SIGNATURES: Final = 32
"""The most entries a ``webhook-signature`` header may carry."""
MAX_SIGNATURE_CHARS: Final = 4096
"""The longest ``webhook-signature`` header, in characters."""
MAX_ID_CHARS: Final = 256
"""The longest ``webhook-id``, in characters."""
MAX_HEADERS: Final = 1000
"""The most headers :func:`verify` reads from a request before refusing it."""

_MAX_TIMESTAMP_CHARS: Final = 20
_MAX_TIMESTAMP: Final = 253_402_300_799  # 9999-12-31T23:59:59Z
_MAX_SECRET_CHARS: Final = len(SECRET_PREFIX) + 4 * -(-MAX_SECRET_BYTES // 3)  # 94
_ID: Final = re.compile(r"[\x21-\x2d\x2f-\x7e]+")  # visible ASCII except the full stop
_VERSION: Final = re.compile(r"[a-z0-9]{1,8}")
_V1: Final = re.compile(r"[A-Za-z0-9+/]{43}=")  # the base64 of 32 bytes
_ID_HEADER: Final = "webhook-id"
_TIMESTAMP_HEADER: Final = "webhook-timestamp"
_SIGNATURE_HEADER: Final = "webhook-signature"
_CAPS: Final = {
    _ID_HEADER: MAX_ID_CHARS,
    _TIMESTAMP_HEADER: _MAX_TIMESTAMP_CHARS,
    _SIGNATURE_HEADER: MAX_SIGNATURE_CHARS,
}
_EPOCH: Final = _dt.datetime(1970, 1, 1, tzinfo=_dt.UTC)
_SECOND: Final = _dt.timedelta(seconds=1)


@final
class Secret:
    """A webhook signing secret: 24 to 64 random bytes, written ``whsec_<base64>``.

    The sender and the receiver share it. Its ``repr`` (and so every log line
    and traceback) shows a fingerprint, never the secret; :meth:`reveal`
    gives the text to store in a vault or hand to a receiver.

    Args:
        key: the raw secret bytes (24 to 64); use :meth:`generate` or
            :meth:`parse` unless the bytes come from elsewhere.

    Raises:
        InvalidInput: the key is not bytes of 24 to 64 bytes.

    Example:
        >>> from resolveflow.webhooks import Secret
        >>> secret = Secret.parse("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
        >>> secret
        Secret(fingerprint='760981b2f027')
        >>> secret.reveal()
        'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw'
        >>> len(Secret.generate().reveal())
        50
    """

    __slots__ = ("_key",)

    def __init__(self, key: bytes) -> None:
        if not isinstance(key, bytes | bytearray):
            raise InvalidInput(
                f"expected the secret's raw bytes, got {type(key).__name__} "
                "(Secret.parse reads a 'whsec_…' string)",
                argument="key",
            )
        if not MIN_SECRET_BYTES <= len(key) <= MAX_SECRET_BYTES:
            raise InvalidInput(
                f"a webhook secret is {MIN_SECRET_BYTES} to {MAX_SECRET_BYTES} random bytes; this one is "
                f"{len(key)} bytes (Secret.generate() makes 32)",
                argument="key",
            )
        self._key: bytes = bytes(key)

    @classmethod
    def generate(cls, size: int = 32) -> Secret:
        """A new random secret of ``size`` bytes (24 to 64; 32 by default), from :mod:`secrets`."""
        if type(size) is not int or not MIN_SECRET_BYTES <= size <= MAX_SECRET_BYTES:
            raise InvalidInput(
                f"expected a whole number of bytes from {MIN_SECRET_BYTES} to {MAX_SECRET_BYTES}, "
                f"got {shown(size)}",
                argument="size",
            )
        return cls(_secrets.token_bytes(size))

    @classmethod
    def parse(cls, text: str) -> Secret:
        """The secret written as ``text`` (``whsec_`` then standard base64 of 24 to 64 bytes).

        Raises:
            InvalidInput: ``text`` is not such a string; the message says what
                is wrong with it and never shows it.
        """
        return _parse(text, "secret")

    def reveal(self) -> str:
        """The secret as ``whsec_<base64>``: the text to store, or to give the receiver. Keep it secret."""
        return SECRET_PREFIX + base64.b64encode(self._key).decode("ascii")

    @property
    def fingerprint(self) -> str:
        """12 hex digits that name this secret in logs without revealing it (a hash of its bytes)."""
        return hashlib.sha256(b"resolveflow.webhooks.fingerprint\n" + self._key).hexdigest()[:12]

    def __repr__(self) -> str:
        return f"Secret(fingerprint={self.fingerprint!r})"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Secret):
            return NotImplemented
        return hmac.compare_digest(self._key, other._key)

    def __hash__(self) -> int:
        return hash(self.fingerprint)

    def __reduce__(self) -> tuple[Any, ...]:
        # Pickles (and copies) carry the bytes, as any object would; never the repr.
        return (Secret, (self._key,))

    def _signature(self, signed_prefix: bytes, body: bytes) -> str:
        mac = hmac.new(self._key, signed_prefix, hashlib.sha256)
        mac.update(body)
        return base64.b64encode(mac.digest()).decode("ascii")


def _parse(text: object, argument: str) -> Secret:
    # Never put ``text`` (or any part of it) in a message: it may be a real secret, even a wrong one.
    if isinstance(text, Secret):
        return text
    if not isinstance(text, str):
        raise InvalidInput(
            f"expected a webhook secret: a 'whsec_…' string or a Secret, got {type(text).__name__}",
            argument=argument,
        )
    text = str.__str__(text)
    if not text.startswith(SECRET_PREFIX):
        raise InvalidInput(
            "a webhook secret starts with 'whsec_' followed by its bytes in base64; this one does not "
            "(if you have the bare base64, put 'whsec_' in front of it)",
            argument=argument,
        )
    if len(text) > _MAX_SECRET_CHARS:
        raise InvalidInput(
            f"is {len(text)} characters; a webhook secret of {MIN_SECRET_BYTES} to {MAX_SECRET_BYTES} "
            f"bytes is at most {_MAX_SECRET_CHARS} characters written as 'whsec_<base64>'",
            argument=argument,
        )
    try:
        key = base64.b64decode(text[len(SECRET_PREFIX) :].encode("ascii"), validate=True)
    except (UnicodeEncodeError, binascii.Error, ValueError):
        raise InvalidInput(
            "the part after 'whsec_' is not standard base64 (A-Z, a-z, 0-9, '+', '/', with '=' padding; "
            "no spaces or line breaks: a secret read from a file may end in a newline)",
            argument=argument,
        ) from None
    if not MIN_SECRET_BYTES <= len(key) <= MAX_SECRET_BYTES:
        raise InvalidInput(
            f"decodes to {len(key)} bytes; a webhook secret is {MIN_SECRET_BYTES} to {MAX_SECRET_BYTES} "
            "random bytes (Secret.generate() makes 32)",
            argument=argument,
        )
    return Secret(key)


def _secret_list(value: object) -> list[Secret]:
    if isinstance(value, str | Secret):
        return [_parse(value, "secrets")]
    if not isinstance(value, Sequence) or isinstance(value, bytes | bytearray):
        # A set is refused too: the order of the signatures would change from run to run.
        raise InvalidInput(
            f"expected a list of webhook secrets ('whsec_…' strings or Secrets), got {type(value).__name__}",
            argument="secrets",
        )
    try:
        found = list(itertools.islice(iter(value), MAX_SECRETS + 1))
    except Exception as error:
        raise InvalidInput(
            f"could not be read as a list of secrets ({type(error).__name__})", argument="secrets"
        ) from None
    if not 1 <= len(found) <= MAX_SECRETS:
        raise InvalidInput(
            f"expected 1 to {MAX_SECRETS} secrets (two while one rotates), got "
            f"{len(found) if len(found) <= MAX_SECRETS else 'more'}",
            argument="secrets",
        )
    return [_parse(item, f"secrets[{index}]") for index, item in enumerate(found)]


def _body(value: object) -> bytes:
    if isinstance(value, bytes | bytearray):
        return bytes(value)
    if isinstance(value, str):
        raise InvalidInput(
            "expected the raw body as bytes (e.g. await request.body()), not text: the signature covers "
            "the exact bytes sent, which decoding and encoding again may change",
            argument="body",
        )
    raise InvalidInput(f"expected the raw body as bytes, got {type(value).__name__}", argument="body")


def _seconds(value: object, argument: str) -> int:
    """Whole seconds since the epoch from an int or an aware datetime (rounded down)."""
    if isinstance(value, int) and not isinstance(value, bool):
        number = int.__int__(value)  # a plain int, whatever a subclass overrides
        if not -_MAX_TIMESTAMP <= number <= _MAX_TIMESTAMP:
            raise InvalidInput(
                f"expected seconds since 1970 within the years 1 to 9999, got {shown(number)}",
                argument=argument,
            )
        return number
    if isinstance(value, _dt.datetime):
        return (check_time(value, argument) - _EPOCH) // _SECOND
    raise InvalidInput(
        f"expected integer seconds since 1970 or a time-zone aware datetime, got {type(value).__name__}",
        argument=argument,
    )


def _clock_time(clock: object, argument: str) -> int:
    if clock is None:
        return _seconds(system_clock(), argument)
    if not callable(clock):
        raise InvalidInput(
            f"expected a clock (a callable returning an aware datetime), got {type(clock).__name__}",
            argument=argument,
        )
    try:
        reading = clock()
    except ResolveflowError:
        raise
    except Exception as error:
        raise InvalidInput(f"the clock failed ({type(error).__name__})", argument=argument) from None
    return _seconds(reading, argument)


def _id_problem(value: str) -> str | None:
    if not value:
        return "is empty"
    if len(value) > MAX_ID_CHARS:
        return f"is {len(value)} characters; at most {MAX_ID_CHARS}"
    if not _ID.fullmatch(value):
        return "may only hold visible ASCII characters, no spaces and no '.' (the signed content's separator)"
    return None


def sign(
    body: bytes,
    *,
    msg_id: str,
    secrets: Secret | str | Sequence[Secret | str],
    timestamp: int | _dt.datetime | None = None,
    clock: Clock | None = None,
) -> dict[str, str]:
    """The Standard Webhooks headers for sending ``body``, signed with every secret given.

    The signed content is ``{msg_id}.{timestamp}.{body}``; each secret adds
    one ``v1,<base64 HMAC-SHA256>`` entry to ``webhook-signature``, in the
    order given. While a secret rotates, sign with both the new and the old
    one, so that receivers holding either accept the request. Sign each
    delivery attempt afresh: the timestamp is the attempt's, the id stays
    the event's.

    Args:
        body: the exact bytes that will be sent as the request body.
        msg_id: the message id, the same on every retry: 1 to
            :data:`MAX_ID_CHARS` visible ASCII characters, no spaces, no
            ``.``.
        secrets: one secret or a list of 1 to :data:`MAX_SECRETS`, each a
            :class:`Secret` or its ``whsec_…`` text.
        timestamp: the attempt's time: integer seconds since 1970 or an aware
            datetime (rounded down to the second). By default, ``clock()``.
        clock: where ``timestamp`` comes from when it is not given; by default
            the system's UTC clock (tests pass a ``ManualClock``).

    Returns:
        ``{"webhook-id": …, "webhook-timestamp": …, "webhook-signature": …}``,
        to send as HTTP headers with ``body``.

    Raises:
        InvalidInput: an argument is wrong (never showing a secret).

    Example:
        >>> from resolveflow.webhooks import sign
        >>> sign(b"{}", msg_id="evt_1", timestamp=1767603600,
        ...      secrets="whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")["webhook-signature"]
        'v1,6JwL0hHvcSUBifrr0Sl2wz2KMpm4edSNLA/MTGuGv0o='
    """
    raw = _body(body)
    if not isinstance(msg_id, str):
        raise InvalidInput(f"expected a string, got {type(msg_id).__name__}", argument="msg_id")
    msg_id = str.__str__(msg_id)
    problem = _id_problem(msg_id)
    if problem:
        raise InvalidInput(f"a webhook id {problem}", argument="msg_id")
    keys = _secret_list(secrets)
    if timestamp is None:
        seconds = _clock_time(clock, "clock")
    else:
        if clock is not None:
            raise InvalidInput("give a timestamp or a clock, not both", argument="clock")
        seconds = _seconds(timestamp, "timestamp")
    if seconds < 0:
        raise InvalidInput("a webhook timestamp cannot be before 1970", argument="timestamp")
    stamp = str(seconds)
    prefix = f"{msg_id}.{stamp}.".encode("ascii")
    entries = list(dict.fromkeys(f"v1,{key._signature(prefix, raw)}" for key in keys))
    return {_ID_HEADER: msg_id, _TIMESTAMP_HEADER: stamp, _SIGNATURE_HEADER: " ".join(entries)}


class _HeaderItems(Protocol):
    def items(self) -> Iterable[tuple[Any, Any]]: ...  # pragma: no cover - a protocol


def _refuse(code: str, reason: str, header: str | None = None) -> WebhookVerificationError:
    return WebhookVerificationError(reason, code=code, header=header)


def _header_name(name: object) -> str | None:
    """The lower-case name if it is one of the three webhook headers, else None."""
    if isinstance(name, bytes | bytearray):
        if len(name) > len(_SIGNATURE_HEADER):
            return None
        try:
            name = bytes(name).decode("ascii")
        except UnicodeDecodeError:
            return None
    if not isinstance(name, str):
        return None
    plain = str.__str__(name)
    # ASCII only before lower(): "\u212a".lower() is "k", and no such name is ours.
    if len(plain) > len(_SIGNATURE_HEADER) or not plain.isascii():
        return None
    lowered = plain.lower()
    return lowered if lowered in _CAPS else None


def _header_value(name: str, value: object) -> str:
    cap = _CAPS[name]
    if isinstance(value, bytes | bytearray):
        if len(value) > cap:
            raise _refuse("malformed_header", f"{name} is {len(value)} characters; at most {cap}", name)
        try:
            value = bytes(value).decode("ascii")
        except UnicodeDecodeError:
            raise _refuse("malformed_header", f"{name} is not ASCII", name) from None
    if not isinstance(value, str):
        raise _refuse("malformed_header", f"{name} is {type(value).__name__}, not text", name)
    text = str.__str__(value)
    if len(text) > cap:
        raise _refuse("malformed_header", f"{name} is {len(text)} characters; at most {cap}", name)
    if not text.isascii():
        raise _refuse("malformed_header", f"{name} is not ASCII", name)
    return text.strip(" \t")


def _read_headers(headers: object) -> dict[str, str]:
    if headers is None or isinstance(headers, str | bytes | bytearray | int | float):
        raise InvalidInput(
            "expected the request's headers: a mapping (dict, Starlette's request.headers, "
            f"http.server's self.headers) or a list of (name, value) pairs; got {type(headers).__name__}",
            argument="headers",
        )
    found: dict[str, str] = {}
    try:
        items = getattr(headers, "items", None)
        source: Iterable[Any] = items() if callable(items) else iter(headers)  # type: ignore[call-overload]
        for count, pair in enumerate(source):
            if count >= MAX_HEADERS:
                raise _refuse("too_many_headers", f"the request has more than {MAX_HEADERS} headers")
            name, value = pair
            lowered = _header_name(name)
            if lowered is None:
                continue
            if lowered in found:
                raise _refuse(
                    "duplicate_header", f"{lowered} appears more than once (names ignore case)", lowered
                )
            found[lowered] = _header_value(lowered, value)
    except ResolveflowError:
        raise
    except Exception as error:
        raise InvalidInput(
            f"could not be read as (name, value) pairs ({type(error).__name__})", argument="headers"
        ) from None
    for name in (_ID_HEADER, _TIMESTAMP_HEADER, _SIGNATURE_HEADER):
        if name not in found:
            raise _refuse("missing_header", f"the request has no {name} header", name)
    return found


def _candidates(header: str) -> list[str]:
    """The ``v1`` signatures of a ``webhook-signature`` header; other versions are skipped."""
    entries = [entry for entry in header.split(" ") if entry]
    if not entries:
        raise _refuse("missing_header", f"{_SIGNATURE_HEADER} is empty", _SIGNATURE_HEADER)
    if len(entries) > MAX_SIGNATURES:
        raise _refuse(
            "malformed_header",
            f"{_SIGNATURE_HEADER} has {len(entries)} entries; at most {MAX_SIGNATURES}",
            _SIGNATURE_HEADER,
        )
    found: list[str] = []
    versions: list[str] = []
    for number, entry in enumerate(entries, start=1):
        version, comma, signature = entry.partition(",")
        if not comma or not _VERSION.fullmatch(version) or not signature:
            raise _refuse(
                "malformed_header",
                f"entry {number} of {_SIGNATURE_HEADER} is not '<version>,<signature>' (like 'v1,K5oZ…=')",
                _SIGNATURE_HEADER,
            )
        if version != "v1":
            versions.append(version)
            continue
        if not _V1.fullmatch(signature):
            raise _refuse(
                "malformed_header",
                f"entry {number} of {_SIGNATURE_HEADER} is not the base64 of a 32-byte HMAC-SHA256",
                _SIGNATURE_HEADER,
            )
        found.append(signature)
    if not found:
        listed = ", ".join(dict.fromkeys(versions))
        raise _refuse(
            "unsupported_signature",
            f"{_SIGNATURE_HEADER} has no v1 (HMAC-SHA256) signature, only {shown(listed)}",
            _SIGNATURE_HEADER,
        )
    return found


def _tolerance(value: object) -> int:
    if isinstance(value, int) and not isinstance(value, bool) and int.__int__(value) >= 0:
        return int.__int__(value)
    if isinstance(value, _dt.timedelta) and _dt.timedelta.__ge__(value, _dt.timedelta(0)):
        return _dt.timedelta.__floordiv__(value, _SECOND)
    raise InvalidInput(
        f"expected seconds (an int of 0 or more) or a timedelta of 0 or more, got {shown(value)}",
        argument="tolerance",
    )


@overload
def verify(
    body: bytes,
    headers: _HeaderItems | Iterable[tuple[str | bytes, str | bytes]],
    secrets: Secret | str | Sequence[Secret | str],
    *,
    tolerance: int | _dt.timedelta = ...,
    now: int | _dt.datetime | None = ...,
    clock: Clock | None = ...,
    as_json: Literal[True] = ...,
) -> Any: ...
@overload
def verify(
    body: bytes,
    headers: _HeaderItems | Iterable[tuple[str | bytes, str | bytes]],
    secrets: Secret | str | Sequence[Secret | str],
    *,
    tolerance: int | _dt.timedelta = ...,
    now: int | _dt.datetime | None = ...,
    clock: Clock | None = ...,
    as_json: Literal[False],
) -> bytes: ...
def verify(
    body: bytes,
    headers: _HeaderItems | Iterable[tuple[str | bytes, str | bytes]],
    secrets: Secret | str | Sequence[Secret | str],
    *,
    tolerance: int | _dt.timedelta = DEFAULT_TOLERANCE,
    now: int | _dt.datetime | None = None,
    clock: Clock | None = None,
    as_json: bool = True,
) -> Any:
    """Check a webhook request's signature and timestamp; return its JSON payload.

    The request verifies when its three headers are present once each and
    well formed, its timestamp is within ``tolerance`` of now (either way),
    and ANY of its ``v1`` signatures matches the one ANY of ``secrets``
    makes (so a receiver holding the old and the new secret accepts requests
    signed with either while a secret rotates). Signatures are compared in
    constant time; entries of other versions (``v1a`` …) are skipped.

    Verifying proves who sent the request and that nothing in it changed; it
    does not stop a replay within the tolerance: de-duplicate by
    ``headers["webhook-id"]``.

    Args:
        body: the raw request body, exactly as received (bytes, not text).
        headers: the request's headers, names in any case: a mapping
            (``dict``, Starlette's ``request.headers``, ``http.server``'s
            ``self.headers``) or a list of ``(name, value)`` pairs (str or
            bytes, as ASGI gives them).
        secrets: the receiver's secret, or a list of 1 to
            :data:`MAX_SECRETS`, each a :class:`Secret` or its ``whsec_…``
            text.
        tolerance: how far the timestamp may be from now, in seconds or as a
            timedelta; :data:`DEFAULT_TOLERANCE` (5 minutes) by default.
        now: the receiver's time (integer seconds since 1970 or an aware
            datetime); by default ``clock()``.
        clock: where ``now`` comes from when it is not given; by default the
            system's UTC clock.
        as_json: return the body parsed as JSON (the default) or, when False,
            the body's bytes.

    Returns:
        The parsed JSON payload, or the body when ``as_json`` is False.

    Raises:
        WebhookVerificationError: the request does not verify; ``code`` says
            why (``missing_header``, ``duplicate_header``,
            ``malformed_header``, ``too_many_headers``,
            ``unsupported_signature``, ``timestamp_too_old``,
            ``timestamp_too_new``, ``no_matching_signature``, ``not_json``).
        InvalidInput: an argument is wrong (never showing a secret).

    Example:
        >>> from resolveflow.webhooks import verify
        >>> headers = {"Webhook-Id": "evt_1", "Webhook-Timestamp": "1767603600",
        ...            "Webhook-Signature": "v1,6JwL0hHvcSUBifrr0Sl2wz2KMpm4edSNLA/MTGuGv0o="}
        >>> verify(b"{}", headers, "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", now=1767603900)
        {}
        >>> verify(b"{}", headers, "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", now=1767603901)
        Traceback (most recent call last):
        ...
        resolveflow.exceptions.WebhookVerificationError: webhook not verified (timestamp_too_old): ...
    """
    raw = _body(body)
    keys = _secret_list(secrets)
    allowed = _tolerance(tolerance)
    if type(as_json) is not bool:
        raise InvalidInput(f"expected True or False, got {shown(as_json)}", argument="as_json")
    if now is None:
        current = _clock_time(clock, "clock")
    else:
        if clock is not None:
            raise InvalidInput("give now or a clock, not both", argument="clock")
        current = _seconds(now, "now")
    found = _read_headers(headers)
    msg_id, stamp = found[_ID_HEADER], found[_TIMESTAMP_HEADER]
    problem = _id_problem(msg_id)
    if problem:
        raise _refuse("malformed_header", f"{_ID_HEADER} {problem}", _ID_HEADER)
    if not (stamp.isascii() and stamp.isdigit()):
        raise _refuse(
            "malformed_header",
            f"{_TIMESTAMP_HEADER} is not integer seconds since 1970 (digits only), got {shown(stamp)}",
            _TIMESTAMP_HEADER,
        )
    candidates = _candidates(found[_SIGNATURE_HEADER])
    sent = int(stamp)
    if sent < current - allowed:
        raise _refuse(
            "timestamp_too_old",
            f"{_TIMESTAMP_HEADER} is {current - sent} seconds in the past; at most {allowed} "
            "(a replay, a delayed request, or a clock that is wrong)",
            _TIMESTAMP_HEADER,
        )
    if sent > current + allowed:
        raise _refuse(
            "timestamp_too_new",
            f"{_TIMESTAMP_HEADER} is {sent - current} seconds in the future; at most {allowed} "
            "(a sender's clock that is ahead)",
            _TIMESTAMP_HEADER,
        )
    prefix = f"{msg_id}.{stamp}.".encode("ascii")
    matched = False
    for key in keys:
        expected = key._signature(prefix, raw)
        for candidate in candidates:
            # Every pair is compared, in constant time: no early exit tells which one matched.
            matched |= hmac.compare_digest(expected, candidate)
    if not matched:
        raise _refuse(
            "no_matching_signature",
            f"none of the {len(candidates)} v1 signature(s) matches the body, {_ID_HEADER} and "
            f"{_TIMESTAMP_HEADER} under the {len(keys)} secret(s) given",
            _SIGNATURE_HEADER,
        )
    if not as_json:
        return raw
    try:
        return json.loads(raw)
    except (ValueError, RecursionError):
        raise _refuse(
            "not_json",
            "the signature is valid but the body is not JSON (pass as_json=False for its bytes)",
        ) from None


def message_id(headers: object) -> str:
    """The ``webhook-id`` of a request, read as :func:`verify` reads it: what to de-duplicate on.

    Header names in any case, the value trimmed of spaces and tabs, so that a retry is
    recognised however a proxy or framework spelled the header. Call it after :func:`verify`
    accepted the request (only then is the id the sender's).

    Raises:
        WebhookVerificationError: the header is missing, repeated or malformed.
        InvalidInput: ``headers`` is not headers.

    Example:
        >>> from resolveflow.webhooks import message_id
        >>> message_id({"Webhook-Id": "msg_2KWPBgLlAfxdpx2AI54pPJ85f4W ", "webhook-timestamp": "1",
        ...             "webhook-signature": "v1,x"})
        'msg_2KWPBgLlAfxdpx2AI54pPJ85f4W'
    """
    found = _read_headers(headers)
    msg_id = found[_ID_HEADER]
    problem = _id_problem(msg_id)
    if problem:
        raise _refuse("malformed_header", f"{_ID_HEADER} {problem}", _ID_HEADER)
    return msg_id
