"""Contract tests generated from the OpenAPI document, against the running server (``resolveflow serve``).

Schemathesis reads ``/openapi.json`` from a real uvicorn process and sends
every operation requests drawn from the document (the evidence schemas
included), authenticated with a bearer token: valid ones, and invalid ones
(negative mode: wrong types, missing members, out-of-range numbers). No response may be a 5xx, and
each must match the schema the document gives for its status (problems
included). Before the generated requests, a few cases are opened so that the
case routes are reached beyond 404. Derandomized and small, to stay quick.
"""

from __future__ import annotations

import concurrent.futures
from typing import Any

import httpx2 as http
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import content_type_conformance, not_a_server_error, response_schema_conformance

from resolveflow.server import openapi_document
from tests._http_server import ACME_TOKEN, RunningServer, running_server

__all__ = ["running_server"]


@pytest.fixture(scope="module")
def api_schema(running_server: RunningServer) -> Any:
    headers = {"Authorization": f"Bearer {running_server.token}"}
    for case_id in ("0", "A", "T-1"):  # ids Hypothesis draws first, so that case routes find a case
        http.post(
            f"{running_server.url}/cases", json={"methodology": "engage", "case_id": case_id}, headers=headers
        )
    return schemathesis.openapi.from_url(f"{running_server.url}/openapi.json")


_PATHS = openapi_document()["paths"]
# Negative mode needs something to get wrong: a parameter or a body.
OPERATIONS = sorted(
    (method.upper(), path, mode)
    for path, item in _PATHS.items()
    for method, operation in item.items()
    for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)
    if mode is GenerationMode.POSITIVE or operation["parameters"] or "requestBody" in operation
)


@pytest.mark.parametrize(("method", "path", "mode"), OPERATIONS)
def test_no_server_errors_and_responses_match_the_document(
    api_schema: Any, running_server: RunningServer, method: str, path: str, mode: GenerationMode
) -> None:
    operation = api_schema[path][method]

    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(max_examples=10, derandomize=True, deadline=None, suppress_health_check=list(HealthCheck))
    def call(case: Any) -> None:
        case.call_and_validate(
            base_url=running_server.url,
            headers={"Authorization": f"Bearer {running_server.token}"},
            checks=[not_a_server_error, response_schema_conformance, content_type_conformance],
            timeout=30,
        )

    call()


def test_a_tenant_token_also_gets_no_server_errors(running_server: RunningServer) -> None:
    headers = {"Authorization": f"Bearer {ACME_TOKEN}"}
    for method, path in (
        ("GET", "/cases"),
        ("GET", "/analytics"),
        ("GET", "/overdue"),
        ("GET", "/cases/T-1"),
    ):
        response = http.request(method, f"{running_server.url}{path}", headers=headers)
        assert response.status_code < 500, response.text


def test_the_server_log_holds_no_token(running_server: RunningServer) -> None:
    http.get(f"{running_server.url}/cases", headers={"Authorization": f"Bearer {running_server.token}"})
    assert running_server.token not in running_server.log.read_text(errors="replace")


def test_racing_fires_with_one_etag_record_one_entry(running_server: RunningServer) -> None:
    headers = {"Authorization": f"Bearer {running_server.token}"}
    base = running_server.url
    opened = http.post(f"{base}/cases", json={"methodology": "engage", "case_id": "RACE-1"}, headers=headers)
    etag = opened.headers["etag"]

    def fire(number: int) -> int:
        response = http.post(
            f"{base}/cases/RACE-1/actions/engage_fully",
            json={"evidence": {"notes": f"Attempt {number}."}},
            headers={**headers, "If-Match": etag, "Idempotency-Key": f"race-{number}"},
            timeout=30,
        )
        return response.status_code

    with concurrent.futures.ThreadPoolExecutor(max_workers=8) as pool:
        statuses = list(pool.map(fire, range(8)))
    assert sorted(statuses) == [200] + [412] * 7, statuses
    history = http.get(f"{base}/cases/RACE-1/history", headers=headers).json()["entries"]
    assert len(history) == 1
