"""resolveflow.webhooks: Standard Webhooks signatures, as a sender makes them and a receiver checks them.

- Known vectors: one computed here by hand from the spec's definition, and
  the spec's own published one.
- Headers: names in any case, mappings and lists of pairs, str or bytes;
  missing, duplicate, malformed and oversized headers are refused with a code.
- Rotation on both sides, the tolerance (past and future, to the second).
- Secrets: the ``whsec_`` form, its bounds, and never a secret in a message
  or a repr.
- Hostile input of any type ends in a resolveflow error, quickly.
- Hypothesis: sign → verify round-trips; one changed byte of the body, the id
  or the timestamp fails; a rotated receiver accepts either secret.
"""

from __future__ import annotations

import base64
import datetime as dt
import email.message
import hashlib
import hmac
import http.client
import io
import itertools
import pickle
import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from resolveflow import webhooks
from resolveflow.exceptions import InvalidInput, ResolveflowError, WebhookVerificationError
from resolveflow.testing import ManualClock
from resolveflow.webhooks import Secret, message_id, sign, verify

T = 1_767_603_600  # 2026-01-05T09:00:00Z
KEY = bytes(range(32))
SECRET_TEXT = "whsec_" + base64.b64encode(KEY).decode()
BODY = b'{"type":"case.opened","case_id":"C-1"}'
PAGE = Path(__file__).resolve().parents[1] / "docs" / "webhooks.md"
LIMITS = Path(__file__).resolve().parents[1] / "docs" / "limits.md"


def headers_for(body: bytes = BODY, *, msg_id: str = "evt_42", secrets: Any = SECRET_TEXT) -> dict[str, str]:
    return sign(body, msg_id=msg_id, secrets=secrets, timestamp=T)


def refused(code: str, body: Any = BODY, headers: Any = None, secrets: Any = SECRET_TEXT, **kw: Any) -> str:
    """Verify, expect a refusal with ``code``; return its message (checked to hold no secret)."""
    kw.setdefault("now", T)
    with pytest.raises(WebhookVerificationError) as info:
        verify(body, headers_for() if headers is None else headers, secrets, **kw)
    assert info.value.code == code, str(info.value)
    message = str(info.value)
    assert message.startswith(f"webhook not verified ({code}): ")
    assert info.value.reason in message
    assert_no_secret(message)
    return message


def assert_no_secret(text: str) -> None:
    assert SECRET_TEXT[6:] not in text and SECRET_TEXT[6:20] not in text


# --- known vectors ------------------------------------------------------------------


def test_a_vector_computed_by_hand_from_the_spec() -> None:
    # The spec: HMAC-SHA256 under the secret's bytes (the base64 after "whsec_") of
    # "{msg_id}.{timestamp}.{body}", written "v1," + standard base64.
    content = b"evt_42." + str(T).encode() + b"." + BODY
    by_hand = base64.b64encode(hmac.new(KEY, content, hashlib.sha256).digest()).decode()
    assert by_hand == "BAJM/GQakI9LYh5dx41LWYw/aEg9pxl3ShoVGPUBH4M="  # computed once, kept as a literal
    assert headers_for() == {
        "webhook-id": "evt_42",
        "webhook-timestamp": "1767603600",
        "webhook-signature": f"v1,{by_hand}",
    }
    assert verify(BODY, {"webhook-id": "evt_42", "webhook-timestamp": str(T),
                         "webhook-signature": f"v1,{by_hand}"}, SECRET_TEXT, now=T) == {
        "type": "case.opened", "case_id": "C-1"}  # fmt: skip


def test_the_specs_published_vector() -> None:
    # The Standard Webhooks reference tests (github.com/standard-webhooks/standard-webhooks,
    # libraries/python/tests/test_webhooks.py, test_sign_function): this secret, id, time and
    # payload sign to this signature. The secret is 24 bytes, the spec's minimum.
    secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
    msg_id, stamp, payload = "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, b'{"test": 2432232314}'
    expected = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
    headers = sign(payload, msg_id=msg_id, secrets=[secret], timestamp=stamp)
    assert headers["webhook-signature"] == expected
    assert verify(payload, headers, secret, now=stamp + 299) == {"test": 2432232314}
    # Their multi-signature test: unknown versions and non-matching v1 entries around the good one.
    other = "v1,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc="
    many = {**headers, "webhook-signature": f"{other} v2,{other[3:]} {expected} {other}"}
    assert verify(payload, many, secret, now=stamp) == {"test": 2432232314}


# --- signing ------------------------------------------------------------------------


def test_the_timestamp_comes_from_the_clock_or_is_given() -> None:
    clock = ManualClock(dt.datetime(2026, 1, 5, 9, 0, 0, 999_999, tzinfo=dt.UTC))
    assert sign(BODY, msg_id="e", secrets=SECRET_TEXT, clock=clock)["webhook-timestamp"] == str(T)
    at = dt.datetime(2026, 1, 5, 10, 0, 0, 500_000, tzinfo=dt.timezone(dt.timedelta(hours=1)))
    assert sign(BODY, msg_id="e", secrets=SECRET_TEXT, timestamp=at)["webhook-timestamp"] == str(T)
    now = int(time.time())
    assert abs(int(sign(BODY, msg_id="e", secrets=SECRET_TEXT)["webhook-timestamp"]) - now) <= 2
    assert verify(BODY, headers_for(), SECRET_TEXT, clock=clock) is not None


@pytest.mark.parametrize(
    ("kwargs", "argument"),
    [
        ({"msg_id": "evt.1"}, "msg_id"),
        ({"msg_id": ""}, "msg_id"),
        ({"msg_id": "evt 1"}, "msg_id"),
        ({"msg_id": "évt"}, "msg_id"),
        ({"msg_id": "e" * 257}, "msg_id"),
        ({"msg_id": None}, "msg_id"),
        ({"timestamp": -1}, "timestamp"),
        ({"timestamp": True}, "timestamp"),
        ({"timestamp": 10**30}, "timestamp"),
        ({"timestamp": 1.5}, "timestamp"),
        ({"timestamp": dt.datetime(2026, 1, 5)}, "timestamp"),
        ({"timestamp": T, "clock": ManualClock()}, "clock"),
        ({"clock": "now"}, "clock"),
        ({"clock": lambda: 1 / 0}, "clock"),
        ({"clock": lambda: "today"}, "clock"),
        ({"secrets": []}, "secrets"),
        ({"secrets": [SECRET_TEXT] * 17}, "secrets"),
        ({"secrets": None}, "secrets"),
        ({"secrets": KEY}, "secrets"),
        ({"secrets": [SECRET_TEXT, 42]}, "secrets[1]"),
    ],
)
def test_sign_refuses_wrong_arguments(kwargs: dict[str, Any], argument: str) -> None:
    call = {"msg_id": "evt_1", "secrets": SECRET_TEXT, **kwargs}
    if "clock" not in kwargs:
        call.setdefault("timestamp", T)
    with pytest.raises(InvalidInput) as info:
        sign(BODY, **call)
    assert info.value.argument == argument
    assert_no_secret(str(info.value))


@pytest.mark.parametrize("body", ["{}", None, 42, ["a"], memoryview(b"{}")])
def test_the_body_is_bytes(body: Any) -> None:
    with pytest.raises(InvalidInput, match="body: expected the raw body as bytes"):
        sign(body, msg_id="e", secrets=SECRET_TEXT, timestamp=T)
    with pytest.raises(InvalidInput, match="body: expected the raw body as bytes"):
        verify(body, headers_for(), SECRET_TEXT, now=T)


def test_a_bytearray_body_is_the_same_bytes() -> None:
    assert sign(bytearray(BODY), msg_id="evt_42", secrets=SECRET_TEXT, timestamp=T) == headers_for()
    assert verify(bytearray(BODY), headers_for(), SECRET_TEXT, now=T)["case_id"] == "C-1"


# --- rotation -----------------------------------------------------------------------


def test_rotation_signs_with_both_and_receivers_with_either_accept() -> None:
    old, new = Secret.generate(), Secret.generate()
    headers = sign(BODY, msg_id="evt_1", secrets=[new, old], timestamp=T)
    entries = headers["webhook-signature"].split(" ")
    assert len(entries) == 2 and all(e.startswith("v1,") for e in entries)
    assert entries[0] == sign(BODY, msg_id="evt_1", secrets=new, timestamp=T)["webhook-signature"]
    for receiver in ([old], [new], [old, new], [new, old], old.reveal(), [Secret.generate(), new]):
        assert verify(BODY, headers, receiver, now=T)["case_id"] == "C-1"
    refused("no_matching_signature", headers=headers, secrets=[Secret.generate()])
    # A rotated receiver accepts requests from a sender that signs with only one of its secrets.
    for sender in (old, new):
        assert verify(BODY, sign(BODY, msg_id="e", secrets=sender, timestamp=T), [old, new], now=T)


def test_the_same_secret_twice_signs_once() -> None:
    headers = sign(BODY, msg_id="evt_42", secrets=[SECRET_TEXT, Secret(KEY)], timestamp=T)
    assert headers == headers_for()


# --- the tolerance --------------------------------------------------------------------


def test_the_tolerance_holds_both_ways_to_the_second() -> None:
    headers = headers_for()
    assert verify(BODY, headers, SECRET_TEXT, now=T + 300)
    assert verify(BODY, headers, SECRET_TEXT, now=T - 300)
    assert "301 seconds in the past; at most 300" in refused("timestamp_too_old", now=T + 301)
    assert "301 seconds in the future" in refused("timestamp_too_new", now=T - 301)
    assert verify(BODY, headers, SECRET_TEXT, now=T + 3600, tolerance=dt.timedelta(hours=1))
    refused("timestamp_too_old", now=T + 1, tolerance=0)
    assert verify(BODY, headers, SECRET_TEXT, now=T, tolerance=0)
    clock = ManualClock(dt.datetime(2026, 1, 5, 9, 5, tzinfo=dt.UTC))
    assert verify(BODY, headers, SECRET_TEXT, clock=clock)
    clock.advance(seconds=1)
    refused("timestamp_too_old", now=None, clock=clock)
    assert webhooks.DEFAULT_TOLERANCE == 300


@pytest.mark.parametrize("tolerance", [-1, dt.timedelta(seconds=-1), 1.5, None, True, "300"])
def test_a_wrong_tolerance_is_refused(tolerance: Any) -> None:
    with pytest.raises(InvalidInput) as info:
        verify(BODY, headers_for(), SECRET_TEXT, now=T, tolerance=tolerance)
    assert info.value.argument == "tolerance"


# --- headers ------------------------------------------------------------------------


def test_header_names_ignore_case_and_many_shapes_are_read() -> None:
    headers = headers_for()
    shapes: list[Any] = [
        headers,
        {name.upper(): value for name, value in headers.items()},
        {name.title(): value for name, value in headers.items()},
        list(headers.items()),
        [(name.encode(), value.encode()) for name, value in headers.items()],  # ASGI's raw headers
        tuple((name, value.encode()) for name, value in headers.items()),
        {"content-type": "application/json", **headers, "x-other": "é"},
    ]
    message = http.client.parse_headers(
        io.BytesIO("".join(f"{k.title()}: {v}\r\n" for k, v in headers.items()).encode() + b"\r\n")
    )
    shapes.append(message)  # what http.server gives a handler as self.headers
    starlette = pytest.importorskip("starlette.datastructures")
    shapes.append(starlette.Headers(headers={k.title(): v for k, v in headers.items()}))
    for shape in shapes:
        assert verify(BODY, shape, SECRET_TEXT, now=T)["case_id"] == "C-1", type(shape)


def test_surrounding_spaces_and_extra_separators_are_tolerated() -> None:
    headers = headers_for()
    spaced = {
        "webhook-id": " evt_42 ",
        "webhook-timestamp": f"\t{T} ",
        "webhook-signature": f"  {headers['webhook-signature']}   v1a,abc  ",
    }
    assert verify(BODY, spaced, SECRET_TEXT, now=T)


@pytest.mark.parametrize("name", ["webhook-id", "webhook-timestamp", "webhook-signature"])
def test_a_missing_header_is_refused(name: str) -> None:
    headers = {k: v for k, v in headers_for().items() if k != name}
    assert name in refused("missing_header", headers=headers)


@pytest.mark.parametrize("name", ["webhook-id", "webhook-timestamp", "webhook-signature"])
def test_a_duplicate_header_is_refused_whatever_its_case(name: str) -> None:
    headers = headers_for()
    assert name in refused("duplicate_header", headers={**headers, name.upper(): headers[name]})
    assert name in refused("duplicate_header", headers=[*headers.items(), (name.title(), headers[name])])
    message = email.message.Message()
    for key, value in [*headers.items(), (name, headers[name])]:
        message[key] = value
    refused("duplicate_header", headers=message)


@pytest.mark.parametrize(
    ("name", "value", "needle"),
    [
        ("webhook-timestamp", "hello", "digits only"),
        ("webhook-timestamp", f"+{T}", "digits only"),
        ("webhook-timestamp", f"{T}.0", "digits only"),
        ("webhook-timestamp", "١٧٦٧٦٠٣٦٠٠", "not ASCII"),  # Arabic-Indic digits: int() reads them
        ("webhook-timestamp", "1" * 21, "at most 20"),
        ("webhook-timestamp", "", "digits only"),
        ("webhook-id", "evt.42", "'.'"),
        ("webhook-id", "", "is empty"),
        ("webhook-id", "x" * 257, "at most 256"),
        ("webhook-id", "évt", "not ASCII"),
        ("webhook-id", None, "not text"),
        ("webhook-id", 42, "not text"),
        ("webhook-id", b"\xff", "not ASCII"),
        ("webhook-signature", "K5oZfzN95Z9UVu1EsfQmfVNQhnkZ2pj9o9NDN/H/pI4=", "entry 1"),
        ("webhook-signature", "v1,", "entry 1"),
        ("webhook-signature", ",abc", "entry 1"),
        ("webhook-signature", "V1,abc", "entry 1"),
        ("webhook-signature", "v1,abc", "32-byte"),
        ("webhook-signature", "v1," + "A" * 44, "32-byte"),
        ("webhook-signature", "v1a,x " * 33, "at most 32"),
        ("webhook-signature", "v1,x" * 2000, "at most 4096"),
    ],
)
def test_a_malformed_header_is_refused(name: str, value: Any, needle: str) -> None:
    message = refused("malformed_header", headers={**headers_for(), name: value})
    assert needle in message and name in message


def test_a_signature_header_of_spaces_is_missing() -> None:
    refused("missing_header", headers={**headers_for(), "webhook-signature": "   "})


def test_only_unknown_versions_is_unsupported() -> None:
    headers = {**headers_for(), "webhook-signature": "v1a,aGVsbG8= v2,aGk="}
    assert "v1a, v2" in refused("unsupported_signature", headers=headers)


def test_a_wrong_signature_is_refused_without_showing_anything_secret() -> None:
    headers = headers_for()
    wrong = headers["webhook-signature"][:-2] + ("A=" if headers["webhook-signature"][-2] != "A" else "B=")
    message = refused("no_matching_signature", headers={**headers, "webhook-signature": wrong})
    assert "1 v1 signature(s)" in message and "1 secret(s)" in message


def test_look_alike_names_are_not_the_headers() -> None:
    headers = headers_for()
    # "\u212a".lower() == "k": a name must be ASCII before its case is ignored.
    kelvin = {"webhoo\u212a-id" if k == "webhook-id" else k: v for k, v in headers.items()}
    refused("missing_header", headers=kelvin)
    refused("missing_header", headers={"x-webhook-id": "evt_42", **{k: v for k, v in headers.items()
                                                                    if k != "webhook-id"}})  # fmt: skip
    # Names of other types are skipped, whatever they are.
    odd: list[Any] = [(None, "x"), (42, "y"), (b"\xff" * 3, "z"), ("é" * 100, "w"), *headers.items()]
    assert verify(BODY, odd, SECRET_TEXT, now=T)


# --- the JSON payload ----------------------------------------------------------------


def test_as_json_false_gives_the_bytes_and_a_non_json_body_is_said_so() -> None:
    body = b"not json \xff"
    headers = headers_for(body)
    assert verify(body, headers, SECRET_TEXT, now=T, as_json=False) == body
    assert "as_json=False" in refused("not_json", body=body, headers=headers)
    for hostile in (b"[" * 100_000 + b"]" * 100_000, b"1" * 100_000, b'{"a": NaN'):
        refused("not_json", body=hostile, headers=headers_for(hostile))
    with pytest.raises(InvalidInput):
        verify(BODY, headers_for(), SECRET_TEXT, now=T, as_json=1)  # type: ignore[call-overload]


# --- secrets ------------------------------------------------------------------------


def test_secrets_parse_generate_and_reveal() -> None:
    secret = Secret.parse(SECRET_TEXT)
    assert secret.reveal() == SECRET_TEXT
    assert secret == Secret(KEY) and hash(secret) == hash(Secret(KEY))
    assert secret != Secret.generate() and secret != SECRET_TEXT
    for size in (24, 32, 64):
        made = Secret.generate(size)
        assert len(base64.b64decode(made.reveal()[6:])) == size
        assert Secret.parse(made.reveal()) == made
    assert pickle.loads(pickle.dumps(secret)) == secret
    assert re.fullmatch(r"Secret\(fingerprint='[0-9a-f]{12}'\)", repr(secret))
    for shown in (repr(secret), str(secret), f"{secret}", repr([secret]), secret.fingerprint):
        assert_no_secret(shown)


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        (SECRET_TEXT[6:], "starts with 'whsec_'"),
        ("WHSEC_" + SECRET_TEXT[6:], "starts with 'whsec_'"),
        ("whsk_" + SECRET_TEXT[6:], "starts with 'whsec_'"),
        (SECRET_TEXT + "\n", "not standard base64"),
        (" " + SECRET_TEXT, "starts with 'whsec_'"),
        (SECRET_TEXT[:-1], "not standard base64"),
        (SECRET_TEXT.replace("A", "-", 1), "not standard base64"),
        (SECRET_TEXT[:-4] + "é===", "not standard base64"),
        ("whsec_" + base64.b64encode(bytes(23)).decode(), "decodes to 23 bytes"),
        ("whsec_" + base64.b64encode(bytes(65)).decode(), "decodes to 65 bytes"),
        ("whsec_" + "A" * 10_000, "at most 94 characters"),
        ("whsec_", "decodes to 0 bytes"),
        (None, "got NoneType"),
        (KEY, "got bytes"),
    ],
)
def test_a_wrong_secret_is_refused_saying_what_is_right_and_never_showing_it(text: Any, needle: str) -> None:
    for call in (
        lambda: Secret.parse(text),
        lambda: sign(BODY, msg_id="e", secrets=[text], timestamp=T),
        lambda: verify(BODY, headers_for(), [SECRET_TEXT, text], now=T),
    ):
        with pytest.raises(InvalidInput) as info:
            call()
        message = str(info.value)
        assert needle in message, message
        assert_no_secret(message)
        assert info.value.__context__ is None or info.value.__suppress_context__
    if isinstance(text, str) and len(text) > 8:
        assert text[6:] not in message


def test_raw_keys_have_the_same_bounds() -> None:
    for key in (bytes(23), bytes(65), "x" * 32, None):
        with pytest.raises(InvalidInput) as info:
            Secret(key)  # type: ignore[arg-type]
        assert info.value.argument == "key"
    for size in (23, 65, 32.0, True, None):
        with pytest.raises(InvalidInput):
            Secret.generate(size)  # type: ignore[arg-type]


# --- hostile input ---------------------------------------------------------------------


class ExplodingMapping:
    def items(self) -> Any:
        raise RuntimeError("boom")


def endless() -> Iterator[tuple[str, str]]:
    yield from headers_for().items()
    yield from itertools.repeat(("x-filler", "y"))


HOSTILE: list[Any] = [
    None,
    "webhook-id: x",
    b"webhook-id: x",
    42,
    3.5,
    ExplodingMapping(),
    [("only-a-name",)],
    [("a", "b", "c")],
    [None],
    [42],
    object(),
    {1: 2},
]


@pytest.mark.parametrize("headers", HOSTILE, ids=lambda h: type(h).__name__)
def test_hostile_headers_give_only_resolveflow_errors(headers: Any) -> None:
    with pytest.raises(ResolveflowError) as info:
        verify(BODY, headers, SECRET_TEXT, now=T)
    assert_no_secret(str(info.value))


def test_endless_or_huge_headers_are_refused_quickly() -> None:
    """Bounded by the input, counted rather than timed: verify stops reading at its cap."""
    read = 0

    def counted() -> Iterator[tuple[str, str]]:
        nonlocal read
        for item in itertools.islice(endless(), 100 * webhooks.MAX_HEADERS):  # finite if the cap fails
            read += 1
            yield item

    refused("too_many_headers", headers=counted())
    assert read <= webhooks.MAX_HEADERS + 1
    huge = "v1," + "A" * 50_000_000
    refused("malformed_header", headers={**headers_for(), "webhook-signature": huge})
    without_id = {k: v for k, v in headers_for().items() if k != "webhook-id"}
    refused("malformed_header", headers={**without_id, "WEBHOOK-ID": huge.encode()})
    many_names = {f"x-{n}": "v" for n in range(webhooks.MAX_HEADERS - 3)} | headers_for()
    assert verify(BODY, many_names, SECRET_TEXT, now=T)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"now": "now"},
        {"now": dt.datetime(2026, 1, 5)},
        {"now": 10**40},
        {"now": T, "clock": ManualClock()},
        {"secrets": None},
        {"secrets": {"k": SECRET_TEXT}},
        {"secrets": b"whsec_"},
        {"secrets": iter([SECRET_TEXT])},
    ],
)
def test_hostile_arguments_give_invalid_input(kwargs: dict[str, Any]) -> None:
    call: dict[str, Any] = {"secrets": SECRET_TEXT, "now": T, **kwargs}
    with pytest.raises(InvalidInput):
        verify(BODY, headers_for(), call.pop("secrets"), **call)


@settings(max_examples=200)
@given(
    headers=st.one_of(
        st.dictionaries(st.one_of(st.text(), st.binary(), st.integers()), st.one_of(st.text(), st.binary())),
        st.lists(
            st.tuples(
                st.sampled_from(["webhook-id", "Webhook-Timestamp", "WEBHOOK-SIGNATURE", "x"]),
                st.one_of(st.text(), st.binary(), st.none()),
            )
        ),
    ),
    body=st.one_of(st.binary(), st.text(), st.none()),
)
def test_any_input_gives_only_resolveflow_errors(headers: Any, body: Any) -> None:
    try:
        verify(body, headers, SECRET_TEXT, now=T)
    except ResolveflowError as error:
        assert_no_secret(str(error))


# --- properties ------------------------------------------------------------------------

ID_CHARACTERS = st.characters(min_codepoint=0x21, max_codepoint=0x7E, exclude_characters=".")
IDS = st.text(alphabet=ID_CHARACTERS, min_size=1, max_size=40)
SECRETS = st.lists(st.binary(min_size=24, max_size=64).map(Secret), min_size=1, max_size=4)
STAMPS = st.integers(min_value=0, max_value=4_102_444_800)


@given(body=st.binary(max_size=2000), msg_id=IDS, keys=SECRETS, stamp=STAMPS, which=st.integers(0, 3))
def test_sign_then_verify_round_trips(
    body: bytes, msg_id: str, keys: list[Secret], stamp: int, which: int
) -> None:
    headers = sign(body, msg_id=msg_id, secrets=keys, timestamp=stamp)
    assert headers["webhook-id"] == msg_id and headers["webhook-timestamp"] == str(stamp)
    receiver = keys[which % len(keys)]
    assert verify(body, headers, receiver, now=stamp, as_json=False) == body
    assert verify(body, headers, [Secret.generate(), *keys], now=stamp + 300, as_json=False) == body


@given(body=st.binary(min_size=1, max_size=500), msg_id=IDS, keys=SECRETS, stamp=STAMPS, data=st.data())
def test_any_single_byte_change_fails(
    body: bytes, msg_id: str, keys: list[Secret], stamp: int, data: st.DataObject
) -> None:
    headers = sign(body, msg_id=msg_id, secrets=keys, timestamp=stamp)
    lenient = {"now": stamp, "tolerance": 10**12, "as_json": False}
    # The body.
    at = data.draw(st.integers(0, len(body) - 1))
    changed = bytearray(body)
    changed[at] ^= data.draw(st.integers(1, 255))
    with pytest.raises(WebhookVerificationError) as info:
        verify(bytes(changed), headers, keys, **lenient)
    assert info.value.code == "no_matching_signature"
    # The id, one character for another allowed one.
    at = data.draw(st.integers(0, len(msg_id) - 1))
    other = data.draw(ID_CHARACTERS.filter(lambda c: c != msg_id[at]))
    with pytest.raises(WebhookVerificationError) as info:
        verify(body, {**headers, "webhook-id": msg_id[:at] + other + msg_id[at + 1 :]}, keys, **lenient)
    assert info.value.code == "no_matching_signature"
    # The timestamp, one digit for another (the tolerance is wide, so only the signature refuses).
    stamp_text = str(stamp)
    at = data.draw(st.integers(0, len(stamp_text) - 1))
    digit = data.draw(st.sampled_from("0123456789").filter(lambda d: d != stamp_text[at]))
    with pytest.raises(WebhookVerificationError) as info:
        verify(body, {**headers, "webhook-timestamp": stamp_text[:at] + digit + stamp_text[at + 1 :]},
               keys, **lenient)  # fmt: skip
    assert info.value.code == "no_matching_signature"


@given(body=st.binary(max_size=300), old=SECRETS, new=SECRETS, stamp=STAMPS)
def test_a_rotated_receiver_accepts_either(
    body: bytes, old: list[Secret], new: list[Secret], stamp: int
) -> None:
    old_secret, new_secret = old[0], new[0]
    receiver = [old_secret, new_secret]
    for sender in ([old_secret], [new_secret], [new_secret, old_secret]):
        headers = sign(body, msg_id="evt_1", secrets=sender, timestamp=stamp)
        assert verify(body, headers, receiver, now=stamp, as_json=False) == body


# --- the page states the caps the code enforces -----------------------------------------------


def test_the_page_states_the_caps() -> None:
    page = PAGE.read_text(encoding="utf-8")
    assert f"{webhooks.MIN_SECRET_BYTES} to {webhooks.MAX_SECRET_BYTES} random bytes" in page
    assert f"at most {webhooks.MAX_SECRETS} secrets" in page
    assert f"at most {webhooks.MAX_SIGNATURES} entries" in page
    assert f"at most {webhooks.MAX_SIGNATURE_CHARS:,} characters" in page
    assert f"at most {webhooks.MAX_ID_CHARS} visible ASCII characters" in page
    assert f"at most {webhooks._MAX_TIMESTAMP_CHARS} digits" in page
    assert f"at most {webhooks.MAX_HEADERS:,} headers" in page
    assert f"{webhooks.DEFAULT_TOLERANCE} seconds" in page
    for code in re.findall(r"``(\w+)``", WebhookVerificationError.__doc__ or ""):
        if code not in ("v1",):
            assert f"`{code}`" in page, code


def test_the_limits_page_states_them_too() -> None:
    page = LIMITS.read_text(encoding="utf-8")
    row = next(line for line in page.splitlines() if line.startswith("| webhooks"))
    assert f"secrets of {webhooks.MIN_SECRET_BYTES} to {webhooks.MAX_SECRET_BYTES} bytes" in row
    assert f"1 to {webhooks.MAX_SECRETS} in one call" in row
    assert f"`webhook-id` at most {webhooks.MAX_ID_CHARS} visible ASCII characters" in row
    assert f"at most {webhooks._MAX_TIMESTAMP_CHARS} digits" in row
    assert f"at most {webhooks.MAX_SIGNATURE_CHARS:,} characters and {webhooks.MAX_SIGNATURES} entries" in row
    assert f"at most {webhooks.MAX_HEADERS:,} headers read" in row


def test_signatures_are_compared_in_constant_time_every_pair(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[tuple[str, str]] = []
    real = hmac.compare_digest

    def spy(a: str, b: str) -> bool:
        calls.append((a, b))
        return real(a, b)

    monkeypatch.setattr(webhooks.hmac, "compare_digest", spy)
    other = Secret.generate()
    headers = sign(BODY, msg_id="evt_42", secrets=[SECRET_TEXT, other], timestamp=T)
    assert verify(BODY, headers, [Secret.generate(), SECRET_TEXT, other], now=T)
    # 3 secrets x 2 signatures: no early exit once one matched, no == anywhere.
    assert len(calls) == 6


class BadSequence(list[str]):
    def __iter__(self) -> Any:
        raise RuntimeError("boom")


class Sly(int):
    def __ge__(self, other: object) -> bool:
        raise RuntimeError("boom")

    def __le__(self, other: object) -> bool:
        raise RuntimeError("boom")


@pytest.mark.parametrize(
    "secrets", [range(10**20), BadSequence([SECRET_TEXT]), {SECRET_TEXT}, [SECRET_TEXT] * 10**6]
)
def test_hostile_secret_lists_give_invalid_input_quickly(secrets: Any) -> None:
    with pytest.raises(InvalidInput) as info:
        verify(BODY, headers_for(), secrets, now=T)
    assert info.value.argument.startswith("secrets")


def test_int_subclasses_are_read_as_plain_ints() -> None:
    assert verify(BODY, headers_for(), SECRET_TEXT, now=Sly(T), tolerance=Sly(0))
    assert sign(BODY, msg_id="evt_42", secrets=SECRET_TEXT, timestamp=Sly(T)) == headers_for()


def test_message_id_reads_the_id_as_verify_does_whatever_the_header_case_or_padding() -> None:
    secret = Secret.generate()
    body = b'{"type": "action_accepted"}'
    signed = sign(body, msg_id="evt_1", secrets=[secret], timestamp=1_700_000_000)
    sent = {
        "Webhook-Id": signed["webhook-id"] + " ",
        **{k: v for k, v in signed.items() if k != "webhook-id"},
    }
    assert verify(body, sent, [secret], now=1_700_000_000) == {"type": "action_accepted"}
    assert message_id(sent) == message_id(signed) == "evt_1"  # one key to de-duplicate on
    with pytest.raises(WebhookVerificationError) as missing:
        message_id({"webhook-timestamp": "1", "webhook-signature": "v1,x"})
    assert missing.value.code == "missing_header"
    with pytest.raises(InvalidInput):
        message_id("webhook-id: evt_1")
