"""The HTTP API route by route (Starlette's test client over a real SQLite file), and its hostile input.

The fire path (If-Match, Idempotency-Key, the ETag) runs on PostgreSQL too,
through the ``db_url`` fixture. Every error response is checked to be an RFC
9457 problem.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anyio
import pytest
from starlette.testclient import TestClient

import resolveflow
import resolveflow.store
from resolveflow import Actor
from resolveflow.server import MAX_BODY, Grant, create_app, load_tokens, openapi_document
from tests.conftest import FakeClock

AGENT = "agent-token-0123456789abcdef"
LEAD = "lead-token-0123456789abcdef"
ACME = "acme-token-0123456789abcdef"
TOKENS: dict[str, Any] = {
    AGENT: Actor("ana", roles={"agent"}),
    LEAD: Grant(Actor("lee", roles={"agent", "legal"})),
    ACME: (Actor("ada"), "acme"),
}
ORIGIN = "https://crm.example.com"
ENGAGE_WALK = [
    ("engage_fully", {"notes": "The parcel arrived broken."}),
    ("show_empathy", {"statement": "That must be really frustrating.", "admits_fault": False}),
    ("solution_accepted", {"solution": "Replacement tomorrow", "customer_calmer": True, "accepted": True}),
]


def auth(token: str = AGENT, **more: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}", **more}


def make_client(db_url: str, clock: FakeClock) -> Iterator[TestClient]:
    with resolveflow.store.connect(db_url) as setup:
        setup.create_schema()
    store = resolveflow.store.connect_async(db_url, clock=clock)
    app = create_app(store, tokens=TOKENS, allowed_origins=[ORIGIN], clock=clock)
    try:
        with TestClient(app, raise_server_exceptions=True) as client:
            yield client
    finally:
        anyio.run(store.close)


@pytest.fixture
def client(tmp_path: Path, clock: FakeClock) -> Iterator[TestClient]:
    """The API over a SQLite file."""
    yield from make_client(str(tmp_path / "cases.db"), clock)


@pytest.fixture
def any_client(db_url: str, clock: FakeClock) -> Iterator[TestClient]:
    """The API over SQLite and over PostgreSQL."""
    yield from make_client(db_url, clock)


def assert_problem(response: Any, status: int, kind: str | None = None) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert {"type", "title", "status", "detail", "instance"} <= set(body)
    assert body["status"] == status
    assert body["instance"] == response.request.url.path
    if kind is not None:
        assert body["type"] == f"https://resolveflow.dev/problems/{kind}"
    assert "Traceback" not in response.text
    return dict(body)


def open_case(client: TestClient, case_id: str = "T-1", methodology: str = "engage", **more: Any) -> Any:
    response = client.post(
        "/cases", json={"methodology": methodology, "case_id": case_id, **more}, headers=auth()
    )
    assert response.status_code == 201, response.text
    return response


# --- methodologies ----------------------------------------------------------------------------


def test_list_methodologies(client: TestClient) -> None:
    listed = client.get("/methodologies", headers=auth()).json()["methodologies"]
    by_id = {m["id"]: m for m in listed}
    assert set(by_id) == set(resolveflow.available())
    assert by_id["seven-as"]["versions"] == resolveflow.versions("seven-as")
    assert by_id["seven-as"]["version"] == resolveflow.versions("seven-as")[-1]


def test_show_methodology_and_version(client: TestClient) -> None:
    shown = client.get("/methodologies/seven-as", headers=auth()).json()
    assert shown["definition"]["id"] == "seven-as"
    assert shown["summary"]["version"] == resolveflow.versions("seven-as")[-1]
    old = client.get("/methodologies/seven-as?version=1.0", headers=auth()).json()
    assert old["definition"]["version"] == "1.0"
    assert_problem(
        client.get("/methodologies/seven-as?version=9.9", headers=auth()), 404, "unknown-methodology"
    )
    assert_problem(client.get("/methodologies/seven-as?version=x", headers=auth()), 400, "invalid-parameter")
    missing = assert_problem(client.get("/methodologies/no-such", headers=auth()), 404, "unknown-methodology")
    assert "engage" in missing["available"]
    assert_problem(client.get("/methodologies/Bad_Id", headers=auth()), 400, "invalid-parameter")


def test_diagram_formats(client: TestClient) -> None:
    mermaid = client.get("/methodologies/engage/diagram", headers=auth())
    assert mermaid.status_code == 200
    assert mermaid.headers["content-type"].startswith("text/vnd.mermaid")
    assert mermaid.text == resolveflow.diagrams.to_mermaid("engage")
    dot = client.get("/methodologies/engage/diagram?format=dot", headers=auth())
    assert dot.text.startswith("digraph")
    assert_problem(client.get("/methodologies/engage/diagram?format=png", headers=auth()), 400)


def test_svg_diagram_when_graphviz_is_here(client: TestClient) -> None:
    try:
        expected = resolveflow.diagrams.to_svg("engage")
    except resolveflow.exceptions.DiagramUnavailable:
        assert_problem(client.get("/methodologies/engage/diagram?format=svg", headers=auth()), 501)
        return
    svg = client.get("/methodologies/engage/diagram?format=svg", headers=auth())
    assert svg.headers["content-type"] == "image/svg+xml"
    assert svg.text == expected


def test_evidence_schemas(client: TestClient) -> None:
    body = client.get("/methodologies/seven-as?version=1.0", headers=auth())
    assert body.status_code == 200
    schemas = client.get("/methodologies/seven-as/schemas?version=1.0", headers=auth()).json()
    methodology = resolveflow.get_methodology("seven-as", "1.0")
    assert set(schemas["actions"]) == {a.name for a in methodology.actions}
    assert (
        schemas["actions"]["agree_plan"]["evidence_schema"]
        == methodology.action("agree_plan").evidence_schema()
    )


# --- cases ------------------------------------------------------------------------------------


def test_open_case_returns_the_view_with_location_and_etag(client: TestClient) -> None:
    response = open_case(client, "T-1")
    assert response.headers["location"] == "/cases/T-1"
    assert response.headers["etag"].startswith('"0-')
    view = response.json()
    assert view["case_id"] == "T-1" and view["step"]["id"] == "engage"
    assert view["methodology"]["version"] == resolveflow.versions("engage")[-1]
    again = client.post("/cases", json={"methodology": "engage", "case_id": "T-1"}, headers=auth())
    assert_problem(again, 409, "case-exists")


def test_open_case_at_an_older_version(client: TestClient) -> None:
    view = open_case(client, "T-old", version="1.0").json()
    assert view["methodology"]["version"] == "1.0"


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"methodology": "engage"}, 400),
        ({"case_id": "x"}, 400),
        ({"methodology": "engage", "case_id": ""}, 400),
        ({"methodology": "engage", "case_id": "x" * 201}, 400),
        ({"methodology": "engage", "case_id": "a\x00b"}, 400),
        ({"methodology": "engage", "case_id": 7}, 400),
        ({"methodology": "engage", "case_id": "x", "actor": "mallory"}, 400),
        ({"methodology": "no-such", "case_id": "x"}, 404),
        ({"methodology": "engage", "case_id": "x", "version": "7.7"}, 404),
        ([1, 2], 400),
        ("text", 400),
    ],
)
def test_open_case_refuses_bad_bodies(client: TestClient, body: Any, status: int) -> None:
    assert_problem(client.post("/cases", json=body, headers=auth()), status)


def test_the_view_is_the_ui_contract(client: TestClient) -> None:
    open_case(client, "T-1", methodology="seven-as")
    response = client.get("/cases/T-1", headers=auth())
    view = response.json()
    case = resolveflow.open_case("seven-as", case_id="T-1")
    assert view["step"]["title"] == case.current.title
    assert view["progress"]["position"] == 1
    actions = {a["name"]: a for a in view["actions"]}
    assert actions == {a.name: a.to_json() for a in case.actions(actor=Actor("ana", roles={"agent"}))}
    assert response.headers["etag"] == client.get("/cases/T-1", headers=auth()).headers["etag"]
    assert_problem(client.get("/cases/NOPE", headers=auth()), 404, "case-not-found")


def test_check_records_nothing(client: TestClient) -> None:
    open_case(client, "T-1", methodology="seven-as")
    decision = client.post("/cases/T-1/check/hear_grievances", headers=auth()).json()
    assert decision["allowed"] is False
    assert [r["code"] for r in decision["refusals"]] == ["not_from_this_step"]
    good = client.post(
        "/cases/T-1/check/acknowledge_feelings", json={"evidence": {"feelings": "Angry."}}, headers=auth()
    ).json()
    assert good["allowed"] is True
    bad = client.post("/cases/T-1/check/acknowledge_feelings", json={"evidence": {}}, headers=auth()).json()
    assert bad["allowed"] is False and bad["refusals"][0]["code"] == "invalid_evidence"
    assert client.get("/cases/T-1/history", headers=auth()).json()["entries"] == []
    assert_problem(client.post("/cases/T-1/check/no_such_action", headers=auth()), 404, "unknown-action")


def test_fire_walks_a_case_to_its_outcome(any_client: TestClient) -> None:
    client = any_client
    etag = open_case(client, "T-1").headers["etag"]
    for number, (action, evidence) in enumerate(ENGAGE_WALK, start=1):
        response = client.post(
            f"/cases/T-1/actions/{action}",
            json={"evidence": evidence},
            headers=auth(**{"If-Match": etag, "Idempotency-Key": f"k-{number}"}),
        )
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["entry"]["seq"] == number
        assert body["entry"]["actor"] == {"id": "ana", "roles": ["agent"]}
        assert "actor" not in body["entry"]["evidence"]
        assert response.headers["etag"] == f'"{number}-{body["case"]["head"][:16]}"'
        etag = response.headers["etag"]
    view = client.get("/cases/T-1", headers=auth()).json()
    assert view["outcome"]["id"] == "resolved"
    assert client.get("/cases/T-1", headers=auth()).headers["etag"] == etag
    closed = client.get("/cases?outcome=resolved", headers=auth()).json()["cases"]
    assert [c["case_id"] for c in closed] == ["T-1"]


def test_if_match_stale_and_idempotent_retries(any_client: TestClient) -> None:
    client = any_client
    etag = open_case(client, "T-1").headers["etag"]
    action, evidence = ENGAGE_WALK[0]
    url = f"/cases/T-1/actions/{action}"
    headers = auth(**{"If-Match": etag, "Idempotency-Key": "form-1"})
    first = client.post(url, json={"evidence": evidence}, headers=headers)
    assert first.status_code == 200
    # The same submission again (a double click, a proxy retry): the first entry, nothing new.
    again = client.post(url, json={"evidence": evidence}, headers=headers)
    assert again.status_code == 200 and again.json()["entry"] == first.json()["entry"]
    assert len(client.get("/cases/T-1/history", headers=auth()).json()["entries"]) == 1
    # The same key for another request.
    reused = client.post(url, json={"evidence": {"notes": "Other."}}, headers=headers)
    assert_problem(reused, 422, "idempotency-key-reused")
    # A form rendered before the first entry.
    stale = client.post(url, json={"evidence": evidence}, headers=auth(**{"If-Match": etag}))
    problem = assert_problem(stale, 412, "stale")
    assert (problem["expected_seq"], problem["current_seq"]) == (0, 1)
    # The right sequence number with another history's hash.
    forged = '"1-0000000000000000"'
    nxt, evidence2 = ENGAGE_WALK[1]
    assert_problem(
        client.post(
            f"/cases/T-1/actions/{nxt}", json={"evidence": evidence2}, headers=auth(**{"If-Match": forged})
        ),
        412,
        "stale",
    )
    assert len(client.get("/cases/T-1/history", headers=auth()).json()["entries"]) == 1


@pytest.mark.parametrize(
    "value", ['W/"0-abcdefabcdefabcd"', "0", '"0"', '"x-y"', '"1-ab", "2-cd"', "garbage"]
)
def test_garbled_if_match_is_400(client: TestClient, value: str) -> None:
    open_case(client, "T-1")
    action, evidence = ENGAGE_WALK[0]
    response = client.post(
        f"/cases/T-1/actions/{action}", json={"evidence": evidence}, headers=auth(**{"If-Match": value})
    )
    assert_problem(response, 400, "bad-if-match")


def test_if_match_star_and_no_if_match_act_on_the_current_state(client: TestClient) -> None:
    open_case(client, "T-1")
    action, evidence = ENGAGE_WALK[0]
    star = client.post(
        f"/cases/T-1/actions/{action}", json={"evidence": evidence}, headers=auth(**{"If-Match": "*"})
    )
    assert star.status_code == 200
    action, evidence = ENGAGE_WALK[1]
    assert (
        client.post(f"/cases/T-1/actions/{action}", json={"evidence": evidence}, headers=auth()).status_code
        == 200
    )


def test_refusals_409_by_state_422_by_evidence(client: TestClient) -> None:
    open_case(client, "T-1", methodology="seven-as")
    # Not at this step: the case's state refuses, whatever is sent.
    state = assert_problem(client.post("/cases/T-1/actions/hear_grievances", headers=auth()), 409, "refused")
    assert state["refusals"][0]["code"] == "not_from_this_step"
    assert state["step"] == "acknowledge"
    client.post(
        "/cases/T-1/actions/acknowledge_feelings", json={"evidence": {"feelings": "Angry."}}, headers=auth()
    ).raise_for_status()
    # A guard that reads the evidence refuses it: what was sent must change.
    sent = {"points": ["Late."], "customer_finished": False}
    by_evidence = assert_problem(
        client.post("/cases/T-1/actions/hear_grievances", json={"evidence": sent}, headers=auth()),
        422,
        "refused",
    )
    assert [r["code"] for r in by_evidence["refusals"]] == ["customer_finished"]
    assert set(by_evidence["refusals"][0]) == {"code", "message", "missing"}
    invalid = assert_problem(
        client.post("/cases/T-1/actions/hear_grievances", json={"evidence": {"points": []}}, headers=auth()),
        422,
        "invalid-evidence",
    )
    assert {e["path"] for e in invalid["errors"]} >= {"customer_finished"}
    unknown = assert_problem(
        client.post("/cases/T-1/actions/fly_away", headers=auth()), 404, "unknown-action"
    )
    assert unknown["available"]
    assert len(client.get("/cases/T-1/history", headers=auth()).json()["entries"]) == 1


def test_the_actor_comes_from_the_token(client: TestClient) -> None:
    open_case(client, "T-1")
    action, evidence = ENGAGE_WALK[0]
    response = client.post(
        f"/cases/T-1/actions/{action}", json={"evidence": evidence, "actor": "mallory"}, headers=auth()
    )
    assert_problem(response, 400, "bad-body")
    client.post(
        f"/cases/T-1/actions/{action}", json={"evidence": evidence}, headers=auth(LEAD)
    ).raise_for_status()
    entry = client.get("/cases/T-1/history", headers=auth()).json()["entries"][0]
    assert entry["actor"] == {"id": "lee", "roles": ["agent", "legal"]}


def test_history_pages(client: TestClient) -> None:
    open_case(client, "T-1")
    for action, evidence in ENGAGE_WALK:
        client.post(
            f"/cases/T-1/actions/{action}", json={"evidence": evidence}, headers=auth()
        ).raise_for_status()
    page = client.get("/cases/T-1/history?limit=2", headers=auth()).json()
    assert [e["seq"] for e in page["entries"]] == [1, 2] and page["next_after_seq"] == 2
    rest = client.get("/cases/T-1/history?after_seq=2&limit=2", headers=auth()).json()
    assert [e["seq"] for e in rest["entries"]] == [3] and rest["next_after_seq"] is None
    for query in ("limit=0", "limit=1001", "after_seq=-1", "after_seq=x", "limit=1e3"):
        assert_problem(client.get(f"/cases/T-1/history?{query}", headers=auth()), 400, "invalid-parameter")


def test_snapshot_restores(client: TestClient) -> None:
    open_case(client, "T-1")
    action, evidence = ENGAGE_WALK[0]
    client.post(
        f"/cases/T-1/actions/{action}", json={"evidence": evidence}, headers=auth()
    ).raise_for_status()
    snapshot = client.get("/cases/T-1/snapshot", headers=auth()).json()
    assert resolveflow.restore(snapshot).step == "empathize"


def test_overdue_per_case_and_across_cases(client: TestClient, clock: FakeClock) -> None:
    open_case(client, "T-1", methodology="seven-as", version="1.0")
    due = (clock() + dt.timedelta(days=1)).isoformat()
    walk = [
        ("acknowledge_feelings", {"feelings": "Angry."}),
        ("hear_grievances", {"points": ["Late."], "customer_finished": True}),
        ("give_apology", {"statement": "I am sorry."}),
        ("give_assurance", {"commitment": "We will fix it."}),
        (
            "agree_plan",
            {"items": [{"id": "leg", "description": "Fit a leg", "due": due}], "agreed_with": "Sam"},
        ),
    ]
    for action, evidence in walk:
        client.post(
            f"/cases/T-1/actions/{action}", json={"evidence": evidence}, headers=auth()
        ).raise_for_status()
    later = (clock() + dt.timedelta(days=2)).isoformat()
    per_case = client.get("/cases/T-1/overdue", params={"now": later}, headers=auth()).json()["overdue"]
    assert [(o["kind"], o["ref"]) for o in per_case] == [("plan_item", "leg")]
    assert (
        client.get("/cases/T-1/overdue", params={"now": clock().isoformat()}, headers=auth()).json()[
            "overdue"
        ]
        == []
    )
    across = client.get("/overdue", params={"now": later}, headers=auth()).json()["overdue"]
    assert [(o["case_id"], o["ref"]) for o in across] == [("T-1", "leg")]
    assert_problem(client.get("/overdue?now=2026-01-01T00:00:00", headers=auth()), 400, "invalid-parameter")
    assert_problem(client.get("/overdue?now=yesterday", headers=auth()), 400, "invalid-parameter")


def test_case_queries(client: TestClient) -> None:
    for case_id in ("A-1", "A-2", "A-3"):
        open_case(client, case_id)
    action, evidence = ENGAGE_WALK[0]
    client.post(
        f"/cases/A-2/actions/{action}", json={"evidence": evidence}, headers=auth()
    ).raise_for_status()
    open_cases = client.get("/cases", headers=auth()).json()
    assert [c["case_id"] for c in open_cases["cases"]] == ["A-1", "A-2", "A-3"]
    at_engage = client.get("/cases?step=engage&limit=1", headers=auth()).json()
    assert [c["case_id"] for c in at_engage["cases"]] == ["A-1"] and at_engage["next_after"] == "A-1"
    after = client.get("/cases?step=engage&after=A-1", headers=auth()).json()
    assert [c["case_id"] for c in after["cases"]] == ["A-3"]
    assert (
        client.get("/cases?step=empathize&methodology=engage", headers=auth()).json()["cases"][0]["case_id"]
        == "A-2"
    )
    assert client.get("/cases?outcome=resolved", headers=auth()).json()["cases"] == []
    assert_problem(client.get("/cases?step=a&outcome=b", headers=auth()), 400)
    assert_problem(client.get("/cases?step=Not-A-Step", headers=auth()), 400)


def test_analytics(client: TestClient) -> None:
    open_case(client, "T-1")
    for action, evidence in ENGAGE_WALK:
        client.post(
            f"/cases/T-1/actions/{action}", json={"evidence": evidence}, headers=auth()
        ).raise_for_status()
    figures = client.get("/analytics", headers=auth()).json()
    assert figures["cases"] == 1 and figures["entries"] == 3
    assert {"methodology_id": "engage", "outcome": "resolved", "count": 1} in figures["outcomes"]
    assert client.get("/analytics?methodology=seven-as", headers=auth()).json()["cases"] == 0


def test_a_token_with_a_tenant_sees_that_tenant_only(client: TestClient) -> None:
    open_case(client, "T-1")
    assert_problem(client.get("/cases/T-1", headers=auth(ACME)), 404, "case-not-found")
    created = client.post("/cases", json={"methodology": "engage", "case_id": "T-1"}, headers=auth(ACME))
    assert created.status_code == 201
    assert [c["case_id"] for c in client.get("/cases", headers=auth(ACME)).json()["cases"]] == ["T-1"]
    action, evidence = ENGAGE_WALK[0]
    client.post(
        f"/cases/T-1/actions/{action}", json={"evidence": evidence}, headers=auth(ACME)
    ).raise_for_status()
    assert client.get("/cases/T-1", headers=auth()).json()["step"]["id"] == "engage"
    assert client.get("/cases/T-1", headers=auth(ACME)).json()["step"]["id"] == "empathize"


# --- the gate: tokens and origins -------------------------------------------------------------


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Bearer wrong-token-0123456789abcdef"},
        {"Authorization": f"Basic {AGENT}"},
        {"Authorization": "Bearer"},
        {"Authorization": f"Bearer {AGENT[:-1]}"},
        {"Authorization": f"Bearer {AGENT}x"},
    ],
)
def test_missing_or_bad_token_is_401(client: TestClient, headers: dict[str, str]) -> None:
    for method, path in (
        ("GET", "/cases"),
        ("POST", "/cases"),
        ("GET", "/methodologies"),
        ("GET", "/nowhere"),
    ):
        response = client.request(method, path, headers=headers)
        assert_problem(response, 401, "unauthenticated")
        assert response.headers["www-authenticate"].startswith("Bearer")


def test_openapi_is_open_to_all(client: TestClient) -> None:
    document = client.get("/openapi.json").json()
    assert document == json.loads(json.dumps(openapi_document()))


def test_foreign_origin_is_403_and_an_allowed_one_gets_cors(client: TestClient) -> None:
    for origin in ("https://evil.example", "null", "https://crm.example.com.evil.example"):
        assert_problem(client.get("/cases", headers=auth(Origin=origin)), 403, "origin-not-allowed")
        assert_problem(client.get("/openapi.json", headers={"Origin": origin}), 403)
    allowed = client.get("/cases", headers=auth(Origin=ORIGIN))
    assert allowed.status_code == 200
    assert allowed.headers["access-control-allow-origin"] == ORIGIN
    preflight = client.options(
        "/cases",
        headers={
            "Origin": ORIGIN,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization,content-type,if-match,idempotency-key",
        },
    )
    assert preflight.status_code == 200
    assert preflight.headers["access-control-allow-origin"] == ORIGIN
    foreign = client.options(
        "/cases", headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "POST"}
    )
    assert_problem(foreign, 403, "origin-not-allowed")


# --- hostile input ----------------------------------------------------------------------------


def test_bad_json(client: TestClient) -> None:
    for raw in (b"{", b"nope", b'{"a": NaN}', b"\xff\xfe", b'{"a": 1' + b"1" * 5000 + b"}"):
        response = client.post("/cases", content=raw, headers=auth(**{"Content-Type": "application/json"}))
        assert_problem(response, 400, "bad-json")


def test_wrong_media_type(client: TestClient) -> None:
    response = client.post(
        "/cases", content=b"methodology=engage", headers=auth(**{"Content-Type": "text/plain"})
    )
    assert_problem(response, 415)


def test_huge_body_is_413(client: TestClient) -> None:
    body = json.dumps({"methodology": "engage", "case_id": "x", "pad": "x" * MAX_BODY}).encode()
    assert_problem(
        client.post("/cases", content=body, headers=auth(**{"Content-Type": "application/json"})), 413
    )

    def chunks() -> Iterator[bytes]:  # no Content-Length: counted as it arrives
        yield b'{"pad": "'
        for _ in range(MAX_BODY // 65536 + 2):
            yield b"x" * 65536
        yield b'"}'

    response = client.post("/cases", content=chunks(), headers=auth(**{"Content-Type": "application/json"}))
    assert_problem(response, 413, "body-too-large")
    assert_problem(
        client.post(
            "/cases",
            content=b"{}",
            headers=auth(**{"Content-Length": "1x", "Content-Type": "application/json"}),
        ),
        400,
    )


def test_deep_json_is_400(client: TestClient) -> None:
    open_case(client, "T-1")
    deep = "[" * 100_000 + "]" * 100_000
    response = client.post(
        "/cases/T-1/actions/engage_fully",
        content=f'{{"evidence": {deep}}}'.encode(),
        headers=auth(**{"Content-Type": "application/json"}),
    )
    assert_problem(response, 400, "json-too-deep")
    # Deep inside a string is not deep.
    text = json.dumps({"evidence": {"notes": "[" * 1000}})
    ok = client.post(
        "/cases/T-1/actions/engage_fully", content=text, headers=auth(**{"Content-Type": "application/json"})
    )
    assert ok.status_code == 200


@pytest.mark.parametrize(
    "path",
    [
        "/cases/" + "x" * 201,
        "/cases/a%00b",
        "/cases/a%01b/history",
        "/cases/T-1/actions/Not-An-Action",
        "/cases/T-1/check/" + "a" * 101,
    ],
)
def test_bad_ids_are_400(client: TestClient, path: str) -> None:
    open_case(client, "T-1")
    method = "POST" if "/actions/" in path or "/check/" in path else "GET"
    assert_problem(client.request(method, path, headers=auth()), 400, "invalid-parameter")


def test_unknown_things_are_404(client: TestClient) -> None:
    assert_problem(client.get("/cases/NOPE/history", headers=auth()), 404, "case-not-found")
    assert_problem(client.get("/cases/NOPE/snapshot", headers=auth()), 404, "case-not-found")
    assert_problem(client.get("/cases/NOPE/overdue", headers=auth()), 404, "case-not-found")
    assert_problem(client.post("/cases/NOPE/actions/engage_fully", headers=auth()), 404, "case-not-found")
    assert_problem(client.get("/cases/a%2Fb", headers=auth()), 404)  # a slash in an id names no route
    assert_problem(client.get("/nowhere", headers=auth()), 404, "not-found")


def test_wrong_method_is_405(client: TestClient) -> None:
    for method, path in (("DELETE", "/cases"), ("PUT", "/cases/T-1"), ("GET", "/cases/T-1/actions/x")):
        response = client.request(method, path, headers=auth())
        assert_problem(response, 405, "method-not-allowed")
    assert client.delete("/cases", headers=auth()).headers["allow"] == "GET, HEAD, POST"
    assert client.put("/cases/T-1", headers=auth()).headers["allow"] == "GET, HEAD"


def test_a_store_that_cannot_be_used_is_503_with_retry_after(tmp_path: Path, clock: FakeClock) -> None:
    # A directory where the database file should be: SQLite cannot open it.
    folder = tmp_path / "not-a-file.db"
    folder.mkdir()
    store = resolveflow.store.connect_async(str(folder), clock=clock)
    app = create_app(store, tokens=TOKENS)
    with TestClient(app) as client:
        response = client.get("/cases", headers=auth())
        problem = assert_problem(response, 503, "store-unavailable")
        assert response.headers["retry-after"].isdigit()
        assert "not-a-file" not in problem["detail"]
    anyio.run(store.close)


# --- configuration ----------------------------------------------------------------------------


def test_create_app_refuses_bad_configuration(tmp_path: Path) -> None:
    store = resolveflow.store.connect_async(str(tmp_path / "c.db"))
    sync = resolveflow.store.connect(str(tmp_path / "c.db"))
    bad = [
        {"store": sync, "tokens": TOKENS},
        {"store": store, "tokens": {"short": Actor("ana")}},
        {"store": store, "tokens": {"has a space in it 0123": Actor("ana")}},
        {"store": store, "tokens": {AGENT: "ana"}},
        {"store": store, "tokens": TOKENS, "allowed_origins": "https://x.example"},
        {"store": store, "tokens": TOKENS, "allowed_origins": ["x.example"]},
        {"store": store, "tokens": TOKENS, "max_body": 0},
        {"store": store, "tokens": {AGENT: (Actor("ana"), "x" * 201)}},
        {"store": store.for_tenant("acme"), "tokens": {AGENT: (Actor("ana"), "globex")}},
    ]
    for arguments in bad:
        with pytest.raises(resolveflow.InvalidInput):
            create_app(**arguments)
    sync.close()
    anyio.run(store.close)


def test_served_methodologies_limit_what_is_listed_and_opened(tmp_path: Path, clock: FakeClock) -> None:
    with resolveflow.store.connect(str(tmp_path / "c.db")) as setup:
        setup.create_schema()
    store = resolveflow.store.connect_async(str(tmp_path / "c.db"), clock=clock)
    engage = resolveflow.get_methodology("engage", "1.0")
    app = create_app(store, tokens=TOKENS, methodologies=[engage])
    with TestClient(app) as client:
        listed = client.get("/methodologies", headers=auth()).json()["methodologies"]
        assert [(m["id"], m["versions"]) for m in listed] == [("engage", ["1.0"])]
        assert_problem(
            client.post("/cases", json={"methodology": "seven-as", "case_id": "x"}, headers=auth()), 404
        )
        assert open_case(client, "x").json()["methodology"]["version"] == "1.0"
        document = client.get("/openapi.json").json()
        assert sorted(document["x-resolveflow-evidence"]) == ["engage"]
    anyio.run(store.close)


def test_load_tokens(tmp_path: Path) -> None:
    path = tmp_path / "tokens.toml"
    path.write_text(
        '[token-for-ana-0123456789]\nactor = "ana"\nroles = ["agent"]\ntenant = "acme"\n', encoding="utf-8"
    )
    path.chmod(0o600)
    grant = load_tokens(path)["token-for-ana-0123456789"]
    assert grant == Grant(Actor("ana", roles={"agent"}), tenant="acme")
    path.chmod(0o644)
    with pytest.raises(resolveflow.InvalidInput, match="chmod 600"):
        load_tokens(path)
    for text in ('{"short": {"actor": "a"}}', '{"token-for-ana-0123456789": {"actor": ""}}', "[1]", "{"):
        bad = tmp_path / "bad.json"
        bad.write_text(text, encoding="utf-8")
        bad.chmod(0o600)
        with pytest.raises(resolveflow.InvalidInput) as raised:
            load_tokens(bad)
        assert "token-for-ana" not in str(raised.value)


def test_mounted_under_a_prefix(tmp_path: Path, clock: FakeClock) -> None:
    from starlette.applications import Starlette
    from starlette.routing import Mount

    with resolveflow.store.connect(str(tmp_path / "c.db")) as setup:
        setup.create_schema()
    store = resolveflow.store.connect_async(str(tmp_path / "c.db"), clock=clock)
    outer = Starlette(routes=[Mount("/api", app=create_app(store, tokens=TOKENS))])
    with TestClient(outer) as client:
        assert client.get("/api/openapi.json").status_code == 200
        assert_problem(client.get("/api/cases"), 401)
        opened = client.post("/api/cases", json={"methodology": "engage", "case_id": "a b?c"}, headers=auth())
        assert opened.headers["location"] == "/api/cases/a%20b%3Fc"
        assert client.get("/api/cases/a%20b%3Fc", headers=auth()).status_code == 200
        action, evidence = ENGAGE_WALK[0]
        fired = client.post("/api/cases/x/actions/" + action, json={"evidence": evidence}, headers=auth())
        assert_problem(fired, 404, "case-not-found")
    anyio.run(store.close)


def test_a_lost_race_without_if_match_is_409_and_a_bug_is_a_bare_500(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    open_case(client, "T-1")
    store = client.app.state.api.store  # type: ignore[attr-defined]

    async def lose(*args: Any, **kwargs: Any) -> Any:
        raise resolveflow.ConcurrencyConflict(case_id="T-1", expected_seq=0, current_seq=1)

    monkeypatch.setattr(store, "fire", lose)
    action, evidence = ENGAGE_WALK[0]
    raced = client.post(f"/cases/T-1/actions/{action}", json={"evidence": evidence}, headers=auth())
    assert assert_problem(raced, 409, "conflict")["current_seq"] == 1

    async def crash(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("secret internals /srv/app/config.py")

    monkeypatch.setattr(store, "load", crash)
    quiet = TestClient(client.app, raise_server_exceptions=False)
    response = quiet.get("/cases/T-1", headers=auth())
    problem = assert_problem(response, 500, "internal")
    assert "secret" not in response.text and "RuntimeError" not in response.text
    assert problem["detail"] == "the request could not be completed"


def test_if_none_match_on_the_view(client: TestClient) -> None:
    etag = open_case(client, "T-1").headers["etag"]
    unchanged = client.get("/cases/T-1", headers=auth(**{"If-None-Match": f'"x", {etag}'}))
    assert unchanged.status_code == 304 and unchanged.headers["etag"] == etag and unchanged.content == b""
    action, evidence = ENGAGE_WALK[0]
    client.post(
        f"/cases/T-1/actions/{action}", json={"evidence": evidence}, headers=auth()
    ).raise_for_status()
    changed = client.get("/cases/T-1", headers=auth(**{"If-None-Match": etag}))
    assert changed.status_code == 200 and changed.headers["etag"] != etag
