"""Hostile input found in review: each of these was a 500 or a change made from a bad request."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from tests.conftest import FakeClock
from tests.test_server import assert_problem, auth, make_client


@pytest.fixture
def client(tmp_path: Path, clock: FakeClock) -> Iterator[TestClient]:
    yield from make_client(str(tmp_path / "cases.db"), clock)


@pytest.mark.parametrize("token", ["Bearer \u00e9\u00e9\u00e9\u00e9".encode("latin-1"), b"Bearer \xff" * 20])
def test_a_non_ascii_bearer_token_is_401_not_500(client: TestClient, token: bytes) -> None:
    response = client.get("/cases", headers={b"Authorization": token})
    assert_problem(response, 401, "unauthenticated")
    assert "invalid_token" in response.headers["www-authenticate"]


def test_a_case_id_with_a_slash_is_refused_and_not_opened(client: TestClient) -> None:
    # Such a case could never be addressed: its Location would be a 404.
    response = client.post("/cases", json={"methodology": "engage", "case_id": "a/b"}, headers=auth())
    problem = assert_problem(response, 400, "invalid-parameter")
    assert problem["parameter"] == "case_id" and "/" in problem["detail"]
    assert client.get("/cases", headers=auth()).json()["cases"] == []


@pytest.mark.parametrize("number", [b"1e999", b"-1e999", b"1E400"])
def test_a_number_json_cannot_hold_is_refused_like_infinity(client: TestClient, number: bytes) -> None:
    # The module says NaN and Infinity are refused; 1e999 is Infinity spelled as a number.
    client.post("/cases", json={"methodology": "engage", "case_id": "T-1"}, headers=auth())
    response = client.post(
        "/cases/T-1/check/engage_fully",
        content=b'{"evidence": {"notes": ' + number + b"}}",
        headers=auth(**{"Content-Type": "application/json"}),
    )
    assert_problem(response, 400, "bad-json")
