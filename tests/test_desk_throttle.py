"""The desk's sign-in throttle and its Secure cookie: guessing passwords gets slow, memory stays bounded."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from resolveflow.desk._throttle import MAX_FAILURES, WINDOW, SignInThrottle, keys_for
from tests.conftest import FakeClock

# The desk's own dependencies are checked as tests/test_desk.py checks them: skipped on a laptop
# without the desk extra, a failure under CI=true.
from tests.test_desk import MISSING, browser_like, csrf_in, make_app, sign_in


@pytest.fixture(autouse=True)
def _desk_dependencies() -> None:
    if MISSING:
        pytest.fail(f"under CI=true {MISSING}", pytrace=False)


class CountingHasher:
    """argon2's cheapest hasher, counting how many passwords it was asked to check."""

    def __init__(self) -> None:
        from argon2 import PasswordHasher

        self.inner = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
        self.verified = 0

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    def verify(self, hashed: str, password: str) -> bool:
        self.verified += 1
        return self.inner.verify(hashed, password)


def fail_times(client: Any, agent: str, times: int) -> list[int]:
    return [sign_in(client, agent, password="wrong").status_code for _ in range(times)]


def test_after_five_failures_the_agent_id_gets_429_before_any_password_is_checked(
    tmp_path: Path, clock: FakeClock
) -> None:
    hasher = CountingHasher()
    app = make_app(tmp_path / "desk.db", clock=clock, demo=False)
    app.state.desk.hasher = hasher
    with browser_like(app) as client:
        assert fail_times(client, "ana", MAX_FAILURES) == [401] * MAX_FAILURES
        checked = hasher.verified
        refused = sign_in(client, "ana")  # even the right password
        assert refused.status_code == 429
        assert int(refused.headers["Retry-After"]) == int(WINDOW.total_seconds())
        assert "Too many failed sign-ins" in refused.text and "15 minutes" in refused.text
        assert hasher.verified == checked, "a blocked attempt must not cost a password check"
        assert "desk_session" not in refused.cookies
        # Not signed in: the case list still redirects to the sign-in page.
        assert client.get("/", follow_redirects=False).status_code == 303


def test_the_block_lifts_when_the_oldest_failure_leaves_the_window(tmp_path: Path, clock: FakeClock) -> None:
    app = make_app(tmp_path / "desk.db", clock=clock, demo=False)
    with browser_like(app) as client:
        fail_times(client, "ana", 1)
        clock.advance(minutes=10)
        fail_times(client, "ana", MAX_FAILURES - 1)
        assert sign_in(client, "ana").status_code == 429
        clock.advance(minutes=5)  # the first failure is now 15 minutes old: four remain in the window
        assert sign_in(client, "ana").status_code == 303


def test_failures_count_per_address_across_agent_ids(tmp_path: Path, clock: FakeClock) -> None:
    app = make_app(tmp_path / "desk.db", clock=clock, demo=False)
    with browser_like(app) as client:
        # One guesser trying a different id each time is still one address.
        statuses = [sign_in(client, f"nobody-{n}", password="x").status_code for n in range(MAX_FAILURES)]
        assert statuses == [401] * MAX_FAILURES
        assert sign_in(client, "lee").status_code == 429


def test_a_right_password_clears_the_agents_own_typos(tmp_path: Path, clock: FakeClock) -> None:
    app = make_app(tmp_path / "desk.db", clock=clock, demo=False)
    throttle = SignInThrottle(clock, max_failures=3)
    app.state.desk.throttle = throttle
    with browser_like(app) as client:
        fail_times(client, "ana", 2)
        assert sign_in(client, "ana").status_code == 303
        assert throttle.retry_after(keys_for("ana", None)) is None
        # The address keeps its two failures: one more from it blocks everyone signing in from there.
        fail_times(client, "sam", 1)
        assert sign_in(client, "lee").status_code == 429


def test_agent_ids_are_counted_case_insensitively() -> None:
    assert keys_for(" Ana ", "10.0.0.1")[0] == keys_for("ana", None)[0]


def test_the_throttle_refuses_settings_that_would_never_or_always_block(clock: FakeClock) -> None:
    for bad in ({"max_failures": 0}, {"max_keys": 0}, {"window": dt.timedelta(0)}):
        with pytest.raises(ValueError, match="max_failures >= 1"):
            SignInThrottle(clock, **bad)  # type: ignore[arg-type]


@settings(max_examples=50, deadline=None)
@given(keys=st.lists(st.text(max_size=20), max_size=300), cap=st.integers(1, 40), limit=st.integers(1, 6))
def test_memory_stays_bounded_whatever_is_sent(keys: list[str], cap: int, limit: int) -> None:
    clock = FakeClock()
    throttle = SignInThrottle(clock, max_failures=limit, max_keys=cap)
    for key in keys:
        throttle.failed((key,))
        assert len(throttle) <= cap
        assert all(len(times) <= limit for times in throttle._failures.values())


@settings(max_examples=50, deadline=None)
@given(gaps=st.lists(st.integers(0, 30 * 60), min_size=1, max_size=12), limit=st.integers(1, 5))
def test_blocked_exactly_when_the_window_holds_enough_failures(gaps: list[int], limit: int) -> None:
    clock = FakeClock()
    throttle = SignInThrottle(clock, max_failures=limit)
    moments = []
    for gap in gaps:
        clock.advance(seconds=gap)
        throttle.failed(("k",))
        moments.append(clock.now)
        in_window = [m for m in moments if clock.now - m < WINDOW]
        assert (throttle.retry_after(("k",)) is not None) == (len(in_window) >= limit)


def test_the_session_cookie_is_secure_only_when_asked(tmp_path: Path, clock: FakeClock) -> None:
    from starlette.testclient import TestClient

    def cookie_header(**kwargs: Any) -> str:
        app = make_app(tmp_path / f"desk-{len(kwargs)}.db", clock=clock, demo=False, **kwargs)
        # Over HTTPS, as a TLS proxy would serve it: the client sends a Secure cookie back only there.
        origin = "https://testserver"
        with TestClient(app, base_url=origin, headers={"Origin": origin}) as client:
            token = csrf_in(client.get("/signin").text)
            response = client.post(
                "/signin",
                data={"_csrf": token, "agent": "ana", "password": "ana-demo"},
                follow_redirects=False,
            )
            assert response.status_code == 303
            return response.headers["set-cookie"].lower()

    assert "; secure" not in cookie_header()
    assert "; secure" in cookie_header(secure_cookie=True)
