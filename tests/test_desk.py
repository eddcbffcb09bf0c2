"""The help desk (resolveflow.desk) over HTTP, with Starlette's test client.

Every page, the forms generated from ``evidence_schema`` (each widget kind, and
every registered methodology's first forms), a seven A's case walked to
resolved through the forms, and each way a submission can fail: invalid
evidence, a refusal, a stale page, a double submit. Then who is acting: signing
in and out, the actor always from the session, the CSRF token and the origin
check on every POST, and the 4xx answers to malformed ids, numbers and bodies.

The tests hash passwords with argon2's cheapest parameters (the desk's default
costs about half a second a hash here); the browser tests use the real ones.

The desk needs the ``desk`` extra (Starlette, Jinja2, uvicorn, python-multipart,
argon2-cffi, itsdangerous) and httpx for the test client; without them these tests are skipped, except
under CI=true, where that is a failure.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import datetime as dt
import html
import importlib.util
import itertools
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

import resolveflow
import resolveflow.store
from tests.conftest import FakeClock


def _missing() -> str | None:
    """What the desk or its test client lacks here, or None."""
    for choice in (
        "starlette",
        "jinja2",
        "python_multipart",
        "uvicorn",
        "sqlalchemy",
        "argon2",
        "itsdangerous",
        "httpx2|httpx",
    ):
        if not any(importlib.util.find_spec(name) for name in choice.split("|")):
            return f"the desk needs {choice}: pip install -e '.[desk]' httpx2"
    return None


MISSING = _missing()
if MISSING and os.environ.get("CI") != "true":
    pytest.skip(MISSING, allow_module_level=True)
if not MISSING:
    from argon2 import PasswordHasher
    from starlette.testclient import TestClient

    from resolveflow.desk import _auth as auth
    from resolveflow.desk import _guard as guard
    from resolveflow.desk import create_app
    from resolveflow.desk._forms import MAX_ROWS, build_fields, compact_rows, to_evidence


@pytest.fixture(autouse=True)
def _desk_dependencies() -> None:
    # Under CI=true the desk must be tested: each test fails, and the rest of the suite still runs.
    if MISSING:
        pytest.fail(f"under CI=true {MISSING}", pytrace=False)


UTC = ZoneInfo("UTC")


# --- helpers ----------------------------------------------------------------------------


ORIGIN = "http://testserver"


def make_app(db: Path, **kwargs: Any) -> Any:
    """The desk, hashing passwords with argon2's cheapest parameters (its real cost is the point
    in production and only slows the tests down)."""
    kwargs.setdefault("allowed_hosts", ["testserver"])  # the test client's host
    return create_app(db, hasher=PasswordHasher(time_cost=1, memory_cost=8, parallelism=1), **kwargs)


def browser_like(app: Any) -> TestClient:
    """A client that sends the desk's own Origin with every request, as a browser on its pages does."""
    return TestClient(app, headers={"Origin": ORIGIN})


def csrf_in(page: str) -> str:
    """The CSRF token a page's forms carry."""
    match = re.search(r'name="_csrf" value="([^"]+)"', page)
    assert match, "no CSRF token on the page"
    return match.group(1)


def sign_in(client: TestClient, agent: str = "ana", password: str | None = None, **data: str) -> Any:
    """Fill in and send the sign-in form (the demo agents' passwords are ``<id>-demo``)."""
    token = csrf_in(client.get("/signin").text)
    body = {"_csrf": token, "agent": agent, "password": f"{agent}-demo" if password is None else password}
    return client.post("/signin", data={**body, **data}, follow_redirects=False)


@contextlib.contextmanager
def signed_in(app: Any, agent: str = "ana") -> Iterator[TestClient]:
    with browser_like(app) as client:
        response = sign_in(client, agent)
        assert response.status_code == 303, response.text
        yield client


def post(client: TestClient, url: str, data: dict[str, str] | None = None, **kw: Any) -> Any:
    """POST a form with the session's CSRF token, as the desk's own pages do."""
    token = csrf_in(client.get("/cases/new").text)
    return client.post(url, data={"_csrf": token, **(data or {})}, **kw)


@pytest.fixture
def desk(tmp_path: Path, clock: FakeClock) -> Iterator[TestClient]:
    """A desk on a new SQLite file with the demo cases, on the fake clock, with ``ana`` signed in."""
    with signed_in(make_app(tmp_path / "desk.db", clock=clock)) as client:
        yield client


@pytest.fixture
def empty_desk(tmp_path: Path, clock: FakeClock) -> Iterator[TestClient]:
    with signed_in(make_app(tmp_path / "desk.db", clock=clock, demo=False)) as client:
        yield client


def form_block(page: str, action: str) -> str:
    """The HTML of the form for ``action`` on a case page."""
    match = re.search(rf'<form [^>]*id="action-{re.escape(action)}".*?</form>', page, re.S)
    assert match, f"no form for {action!r} on the page"
    return match.group(0)


def hidden(block: str, name: str) -> str:
    match = re.search(rf'name="{re.escape(name)}" value="([^"]*)"', block)
    assert match, f"no {name} in the form"
    return html.unescape(match.group(1))


def input_names(block: str) -> set[str]:
    return {html.unescape(n) for n in re.findall(r'name="([^"]+)"', block)} - {
        "_expected_seq",
        "_key",
        "_submit",
        "_csrf",
    }


def submit(
    client: TestClient, case_id: str, action: str, data: dict[str, str] | None = None, **kw: Any
) -> Any:
    """Fill in and post an action's form the way a browser does (with the page's hidden fields)."""
    page = client.get(f"/cases/{case_id}").text
    block = form_block(page, action)
    body = {
        "_csrf": hidden(block, "_csrf"),
        "_expected_seq": hidden(block, "_expected_seq"),
        "_key": hidden(block, "_key"),
        **(data or {}),
    }
    return client.post(f"/cases/{case_id}/actions/{action}", data=body, **kw)


def open_case(client: TestClient, methodology: str, case_id: str) -> str:
    response = post(client, "/cases", {"methodology": methodology, "case_id": case_id})
    assert response.status_code == 200, response.text
    return response.text


def local(moment: dt.datetime) -> str:
    """A datetime-local input's value."""
    return moment.strftime("%Y-%m-%dT%H:%M")


def text_of(page: str) -> str:
    """The page's text without tags, whitespace collapsed (for assertions on what a person reads)."""
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", page)).split())


def desk_store(app: Any) -> resolveflow.store.Store:
    """A synchronous store on the desk's own file (the desk's async store serves its event loop)."""
    return resolveflow.store.Store(app.state.desk.engine, owns_engine=False)


def stored(client: TestClient, case_id: str) -> resolveflow.Case:
    return desk_store(client.app).load(case_id)


# --- the case list and demo data --------------------------------------------------------


def test_a_new_database_gets_demo_cases_across_methodologies(desk: TestClient) -> None:
    page = desk.get("/")
    assert page.status_code == 200
    text = text_of(page.text)
    for case_id in ("DESK-101", "DESK-102", "DESK-103", "DESK-104", "DESK-105", "DESK-106", "DESK-107"):
        assert case_id in text
    for title in ("seven-as", "prescription", "four-steps", "five-steps", "iso-10002"):
        assert title in text
    # Steps by title, the closed case with its outcome, the late ones flagged.
    assert "Act on the plan" in text
    assert "Waiting to talk again" in text
    assert re.search(r'id="row-DESK-101" class="late"', page.text)
    assert re.search(r'id="row-DESK-102" class="late"', page.text)
    assert not re.search(r'id="row-DESK-103" class="late"', page.text)
    closed = page.text.split('id="closed-cases"')[1]
    assert "DESK-105" in closed and "Resolved" in closed
    overdue = page.text.split('id="deadlines"')[1].split("</section>")[0]
    assert "Courier a replacement leg" in overdue and "DESK-102" in overdue


def test_an_existing_database_is_not_seeded_again(tmp_path: Path, clock: FakeClock) -> None:
    with signed_in(make_app(tmp_path / "desk.db", clock=clock)) as client:
        submit(client, "DESK-103", "acknowledge_feelings", {"feelings": "Cross about the wait."})
    with signed_in(make_app(tmp_path / "desk.db", clock=clock)) as client:
        assert stored(client, "DESK-103").step == "air_grievances"
        assert text_of(client.get("/").text).count("DESK-103") == 1


def test_a_failed_seed_leaves_no_database_and_the_next_start_seeds(
    tmp_path: Path, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    import resolveflow.store

    real_fire = resolveflow.store.Store.fire
    calls = 0

    def fire_then_fail(self: Any, *args: Any, **kwargs: Any) -> Any:
        nonlocal calls
        calls += 1
        if calls == 5:
            raise RuntimeError("the disk went away")
        return real_fire(self, *args, **kwargs)

    monkeypatch.setattr(resolveflow.store.Store, "fire", fire_then_fail)
    with pytest.raises(RuntimeError, match="the disk went away"):
        make_app(tmp_path / "desk.db", clock=clock)
    assert calls == 5
    assert list(tmp_path.iterdir()) == []  # no desk.db, no scratch file, no journal
    monkeypatch.undo()
    with signed_in(make_app(tmp_path / "desk.db", clock=clock)) as client:
        page = client.get("/")
        assert page.status_code == 200
        for case_id in ("DESK-101", "DESK-104", "DESK-107", "DESK-108"):
            assert case_id in text_of(page.text)
    assert sorted(p.name for p in tmp_path.iterdir() if not p.name.startswith("desk.db-")) == ["desk.db"]


def test_an_empty_file_is_seeded(tmp_path: Path, clock: FakeClock) -> None:
    (tmp_path / "desk.db").write_bytes(b"")
    with signed_in(make_app(tmp_path / "desk.db", clock=clock)) as client:
        assert "DESK-101" in text_of(client.get("/").text)


def test_an_existing_database_without_tables_or_cases_starts(tmp_path: Path, clock: FakeClock) -> None:
    import sqlite3

    bare = tmp_path / "bare.db"
    connection = sqlite3.connect(bare)
    connection.execute("CREATE TABLE notes (text TEXT)")
    connection.commit()
    connection.close()
    with signed_in(make_app(bare, clock=clock)) as client:
        page = client.get("/")
        assert page.status_code == 200 and "No open cases." in page.text
    # Now it has the tables and no cases: still a working, empty desk.
    with signed_in(make_app(bare, clock=clock)) as client:
        page = client.get("/")
        assert page.status_code == 200 and "No open cases." in page.text
        assert client.get("/cases/new").status_code == 200


def test_the_server_reports_a_database_it_cannot_use_on_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from resolveflow.desk import main

    garbage = tmp_path / "desk.db"
    garbage.write_text("this is not a database\n" * 100, encoding="utf-8")
    assert main(["--db", str(garbage), "--port", "0"]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith(f"resolveflow desk: cannot start on {garbage}: ")


def test_resolveflow_desk_is_a_command_of_the_cli(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from resolveflow.cli import main

    runner = CliRunner()
    shown = runner.invoke(main, ["desk", "--help"])
    assert shown.exit_code == 0
    for option in ("--db", "--host", "--port", "--zone", "--no-demo", "--methodologies"):
        assert option in shown.output
    garbage = tmp_path / "desk.db"
    garbage.write_text("this is not a database\n" * 100, encoding="utf-8")
    failed = runner.invoke(main, ["desk", "--db", str(garbage), "--port", "0"])
    assert failed.exit_code == 1
    assert failed.output.startswith(f"resolveflow desk: cannot start on {garbage}: ")


def test_python_m_resolveflow_desk_runs() -> None:
    import subprocess
    import sys

    shown = subprocess.run(
        [sys.executable, "-m", "resolveflow.desk", "--help"], capture_output=True, text=True, check=False
    )
    assert shown.returncode == 0, shown.stderr
    assert "python -m resolveflow.desk" in shown.stdout and "--db" in shown.stdout


def test_the_templates_and_stylesheet_are_package_data() -> None:
    """They are read from the installed package (a wheel holds them: hatchling ships every file
    under src/resolveflow that git does not ignore), not from a checkout."""
    import importlib.resources
    import subprocess
    import tomllib

    desk = importlib.resources.files("resolveflow.desk")
    for name in ("base.html", "case.html", "cases.html", "_fields.html", "signin.html"):
        assert (desk / "templates" / name).is_file(), name
    for name in ("desk.css", "favicon.svg"):
        assert (desk / "static" / name).is_file(), name
    root = Path(__file__).resolve().parents[1]
    wheel = tomllib.loads((root / "pyproject.toml").read_text("utf-8"))["tool"]["hatch"]["build"]["targets"]
    assert wheel["wheel"] == {"packages": ["src/resolveflow"]}, "check that the desk's files still ship"
    ignored = subprocess.run(
        ["git", "check-ignore", "--no-index", "src/resolveflow/desk/templates/base.html",
         "src/resolveflow/desk/static/desk.css"],
        cwd=root, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert ignored.stdout == "", f"git ignores (so the wheel leaves out) {ignored.stdout}"


def test_demo_data_can_be_left_out(empty_desk: TestClient) -> None:
    assert "No open cases." in empty_desk.get("/").text


# --- opening cases ----------------------------------------------------------------------


def test_the_new_case_page_offers_every_registered_methodology(desk: TestClient) -> None:
    page = desk.get("/cases/new").text
    for methodology_id in resolveflow.available():
        assert f'value="{methodology_id}"' in page


@pytest.mark.parametrize("methodology_id", resolveflow.available())
def test_any_methodology_opens_with_a_form_per_enabled_action(
    empty_desk: TestClient, methodology_id: str
) -> None:
    page = open_case(empty_desk, methodology_id, f"T-{methodology_id}")
    methodology = resolveflow.get_methodology(methodology_id)
    assert html.escape(methodology.node(methodology.initial).title, quote=False) in page
    case = stored(empty_desk, f"T-{methodology_id}")
    for action in case.actions():
        if action.enabled:
            names = input_names(form_block(page, action.name))
            for key, schema in action.evidence_schema["properties"].items():
                if schema.get("type") == "array" and schema["items"].get("type") == "object":
                    assert any(n.startswith(f"{key}[0].") for n in names), (action.name, key)
                else:
                    assert key in names, (action.name, key, names)
        else:
            assert f'id="refused-{action.name}"' in page
            assert action.refusals[0].code in page


def test_a_case_id_is_made_up_when_none_is_given(empty_desk: TestClient) -> None:
    response = post(empty_desk, "/cases", {"methodology": "engage", "case_id": ""}, follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"].startswith("/cases/DESK-")


def test_opening_a_taken_or_malformed_id_says_why(desk: TestClient) -> None:
    taken = post(desk, "/cases", {"methodology": "engage", "case_id": "DESK-101"})
    assert taken.status_code == 422
    assert "already exists" in text_of(taken.text)
    malformed = post(desk, "/cases", {"methodology": "engage", "case_id": "a b/c"})
    assert malformed.status_code == 422
    assert "A case id is" in malformed.text
    unknown = post(desk, "/cases", {"methodology": "no-such", "case_id": "X-1"})
    assert unknown.status_code == 422
    assert "no-such" in text_of(unknown.text)


# --- the case page ----------------------------------------------------------------------


def test_the_case_page_shows_guidance_progress_refusals_overdue_and_history(desk: TestClient) -> None:
    page = desk.get("/cases/DESK-101").text
    text = text_of(page)
    step = resolveflow.get_methodology("seven-as").node("act")
    assert isinstance(step, resolveflow.Step)
    heading = re.search(r'<h2 id="step-title">(.*?)</h2>', page)
    assert heading is not None and html.unescape(heading.group(1)) == step.title
    for line in (*step.prompts, *step.checklist):
        assert html.escape(line, quote=False) in page
    # Progress: five required steps passed, the sixth is current, the seventh ahead.
    assert "Step 6 of 7" in text
    assert "5 of 7 required steps passed" in text
    assert page.count('class="done"') == 5
    assert re.search(r'<li class="current" data-step="act">', page)
    # The enabled action is a form; the refused one says why in words, naming what is missing.
    assert 'id="action-complete_item"' in page
    refused = page.split('id="refused-complete_plan"')[1].split("</div>")[0]
    assert 'data-code="all_plan_items_done"' in refused  # the stable code, for scripts, not for reading
    assert "all_plan_items_done" not in text_of(refused) and "plan_item:" not in text_of(refused)
    assert "Finish every item of the agreed plan first." in text_of(refused)
    assert "plan item “leg” (Courier a replacement leg); plan item “call” (Call to check it fits)" in (
        html.unescape(refused)
    )
    assert "7 entries" in text  # and "1 entry" for one (test_one_entry_is_one_entry)
    overdue = page.split('id="overdue"')[1].split("</section>")[0]
    assert "Courier a replacement leg" in overdue and "leg" in overdue
    assert "Refund the delivery fee" in text  # the plan, in the history
    assert text.index("#6") < text.index("#1")  # newest first
    assert "Refunded by card." in text


def test_a_side_step_and_a_missed_follow_up(desk: TestClient) -> None:
    text = text_of(desk.get("/cases/DESK-102").text)
    assert "Off the main path · next required step 5 of 7" in text
    assert "Now at a side step: Waiting to talk again." in text
    assert "follow-up Too upset to agree anything today." in text
    assert "Resume the conversation" in text  # an action that records nothing: a bare button


def test_the_diagram_highlights_the_case(desk: TestClient) -> None:
    page = desk.get("/cases/DESK-101").text
    diagram = page.split('id="diagram"')[1]
    try:
        resolveflow.diagrams.to_svg("seven-as")
    except resolveflow.exceptions.DiagramUnavailable:
        assert "stateDiagram-v2" in diagram
        assert "class act current" in diagram
    else:
        assert "<svg" in diagram
        assert "<title>act</title>" in diagram
        assert "#e8590c" in diagram  # the current step's border colour


def test_without_graphviz_the_diagram_is_mermaid_source(
    desk: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    def unavailable(*args: object, **kwargs: object) -> str:
        raise resolveflow.exceptions.DiagramUnavailable("no dot here")

    monkeypatch.setattr(resolveflow.diagrams, "to_svg", unavailable)
    page = desk.get("/cases/DESK-102").text
    source = html.unescape(page.split('<pre class="mermaid-source">')[1].split("</pre>")[0])
    assert source == resolveflow.diagrams.to_mermaid("seven-as", case=stored(desk, "DESK-102"))
    assert "class rescheduled current" in source


def test_unknown_cases_and_actions_are_404(desk: TestClient) -> None:
    assert desk.get("/cases/NOPE-1").status_code == 404
    response = post(desk, "/cases/DESK-103/actions/no_such_action", data={"_expected_seq": "0"})
    assert response.status_code == 404
    assert "no_such_action" in response.text
    assert post(desk, "/cases/NOPE-1/actions/x", data={"_expected_seq": "0"}).status_code == 404


# --- the forms --------------------------------------------------------------------------

# seven-as 1.1 talks solutions through after the assurance (discuss_solutions) before a plan.
READY_TO_DISCUSS = {"customer_expects": "A sofa that stands.", "we_can_offer": "A new leg by courier."}


def _fields(methodology: str, action: str) -> dict[str, Any]:
    spec = resolveflow.get_methodology(methodology).action(action)
    assert spec is not None
    return {f.name: f for f in build_fields(spec.evidence_schema())}


def test_each_schema_type_gets_its_widget() -> None:
    plan = _fields("seven-as", "agree_plan")
    assert plan["items"].kind == "rows"
    assert [f.name for f in plan["items"].rows[0]] == [
        "items[0].id",
        "items[0].description",
        "items[0].due",
        "items[0].priority",
    ]
    assert [f.kind for f in plan["items"].rows[0]] == ["text", "textarea", "datetime", "select"]
    assert plan["items"].rows[0][3].options == ("pressing", "long_term")
    assert plan["agreed_with"].kind == "text" and plan["agreed_with"].required
    grievances = _fields("seven-as", "hear_grievances")
    assert grievances["points"].kind == "lines"
    assert grievances["customer_finished"].kind == "checkbox"
    assert not grievances["customer_finished"].required  # unticked is an answer too
    decision = _fields("five-steps", "decide_solution")
    assert decision["value"].kind == "number" and decision["value"].minimum == 0
    assert not decision["value"].required  # anyOf [number, null]: optional
    closing = _fields("five-steps", "close_resolved")
    assert closing["minutes_taken"].kind == "integer" and closing["minutes_taken"].minimum == 0
    prevention = _fields("prescription", "commit_prevention")
    assert prevention["kind"].kind == "select"
    assert prevention["kind"].options == ("procedure_change", "training", "system_fix")
    assert prevention["description"].kind == "textarea" and prevention["description"].max_length == 2000
    odd = {f.name: f for f in build_fields({"properties": {"blob": {"type": "object"}}})}
    assert odd["blob"].kind == "json"  # no widget: typed as JSON, validated by resolveflow


def test_posted_values_become_evidence() -> None:
    spec = resolveflow.get_methodology("seven-as").action("agree_plan")
    assert spec is not None
    schema = spec.evidence_schema()
    posted = {
        "agreed_with": "Ms Ortiz",
        "items[0].id": "",
        "items[0].description": "",
        "items[0].due": "",
        "items[1].id": "leg",
        "items[1].description": "Replace\r\nthe leg",
        "items[1].due": "2026-03-04T10:30",
    }
    values = compact_rows(schema, posted)
    assert values["items[0].id"] == "leg" and "items[1].id" not in values  # the blank row is dropped
    evidence = to_evidence(schema, values, ZoneInfo("Europe/Berlin"))
    assert evidence == {
        "agreed_with": "Ms Ortiz",
        "items": [{"id": "leg", "description": "Replace\nthe leg", "due": "2026-03-04T09:30:00+00:00"}],
    }
    decide = resolveflow.get_methodology("five-steps").action("decide_solution")
    assert decide is not None
    schema = decide.evidence_schema()
    assert to_evidence(schema, {"solution": "s", "answers": "a", "value": "12.5"}, UTC)["value"] == 12.5
    assert to_evidence(schema, {"solution": "s", "answers": "a", "value": "12"}, UTC)["value"] == 12
    assert "value" not in to_evidence(schema, {"solution": "s", "answers": "a", "value": ""}, UTC)
    # What does not convert goes on as typed, for resolveflow to name the problem.
    assert to_evidence(schema, {"value": "lots"}, UTC)["value"] == "lots"
    grievances = resolveflow.get_methodology("seven-as").action("hear_grievances")
    assert grievances is not None
    evidence = to_evidence(grievances.evidence_schema(), {"points": "Late\r\n\r\n  Broken \n"}, UTC)
    assert evidence == {"points": ["Late", "Broken"], "customer_finished": False}


# --- acting through the forms -----------------------------------------------------------


def test_a_seven_as_case_walks_to_resolved_through_the_forms(
    empty_desk: TestClient, clock: FakeClock
) -> None:
    client = empty_desk
    open_case(client, "seven-as", "W-1")
    due = clock.now + dt.timedelta(days=2)
    steps: list[tuple[str, dict[str, str], str]] = [
        ("acknowledge_feelings", {"feelings": "Angry about the broken sofa."}, "air_grievances"),
        ("hear_grievances", {"points": "Broken leg\nNo call back", "customer_finished": "true"}, "apologize"),
        ("give_apology", {"statement": "I am sorry.", "admits_fault": "true"}, "assure"),
        ("give_assurance", {"commitment": "We will fix it this week."}, "assure"),
        ("discuss_solutions", {**READY_TO_DISCUSS, "customer_ready": "true"}, "agree"),
        (
            "agree_plan",
            {
                "agreed_with": "Ms Ortiz",
                "items[0].id": "leg",
                "items[0].description": "Send a new leg",
                "items[0].due": local(due),
                "items[1].id": "call",
                "items[1].description": "Call to check",
                "items[1].due": local(due + dt.timedelta(days=1)),
            },
            "act",
        ),
        ("complete_item", {"item_id": "leg"}, "act"),
        ("complete_item", {"item_id": "call", "note": "All fine."}, "act"),
        ("complete_plan", {}, "accomplish"),
        (
            "confirm_satisfaction",
            {"satisfied": "true", "thanked": "true", "recurrence_assured": "true", "comment": "Thanks!"},
            "resolved",
        ),
    ]
    for seq, (action, data, step) in enumerate(steps, start=1):
        clock.advance(minutes=5)
        response = submit(client, "W-1", action, data, follow_redirects=False)
        assert response.status_code == 303, text_of(response.text)
        assert response.headers["location"] == f"/cases/W-1?recorded={seq}"
        assert stored(client, "W-1").step == step
    page = client.get("/cases/W-1?recorded=10").text
    assert "Recorded: Customer satisfied, thanked, and told it should not recur" in text_of(page)
    assert 'id="outcome"' in page and "Closed: Resolved" in text_of(page)
    assert "7 of 7 required steps passed" in text_of(page)
    assert 'id="actions"' not in page  # nothing left to do
    case = stored(client, "W-1")
    plan = case.history[5].evidence_json
    assert plan["items"][0]["due"].startswith(due.strftime("%Y-%m-%dT%H:%M"))
    assert [e.actor for e in case.history] == ["ana"] * 10


def redirected_to_the_form(response: Any, case_id: str, action: str) -> None:
    """Post/Redirect/Get: the POST answered 303 to the case page, at the form, which was shown."""
    assert [r.status_code for r in response.history] == [303], response.text[:200]
    location = response.history[0].headers["location"]
    assert re.fullmatch(rf"/cases/{case_id}\?form=[A-Za-z0-9_-]+#action-{action}", location), location
    assert response.status_code == 200


def test_invalid_evidence_redisplays_the_form_with_field_errors(desk: TestClient) -> None:
    response = submit(desk, "DESK-103", "acknowledge_feelings", {"feelings": "   "})
    redirected_to_the_form(response, "DESK-103", "acknowledge_feelings")
    block = form_block(response.text, "acknowledge_feelings")
    assert re.search(r'class="field-error" data-for="feelings">is required', block)
    assert "Not recorded" in response.text
    assert stored(desk, "DESK-103").history == ()
    bad_number = submit(
        desk, "DESK-106", "decide_solution", {"solution": "Refund", "answers": "Time lost", "value": "-3"}
    )
    redirected_to_the_form(bad_number, "DESK-106", "decide_solution")
    block = form_block(bad_number.text, "decide_solution")
    assert re.search(r'data-for="value">must be at least 0', block)
    assert ">Refund</textarea>" in block  # what was typed is kept


def test_a_refusal_shows_its_reasons_once_in_words_and_keeps_the_answers(desk: TestClient) -> None:
    submit(desk, "DESK-103", "acknowledge_feelings", {"feelings": "Upset."})
    response = submit(desk, "DESK-103", "hear_grievances", {"points": "Late\nRude driver"})
    redirected_to_the_form(response, "DESK-103", "hear_grievances")
    block = form_block(response.text, "hear_grievances")
    notice = block.split('id="notice"')[1].split("</div>")[0]
    assert "is not possible yet" in notice
    reason = "Let the customer finish saying everything before moving on."
    assert reason in notice
    assert "Still needed: “The customer has finished” ticked." in html.unescape(text_of(notice))
    # Once on the page, and no raw code or missing path in what a person reads.
    assert text_of(response.text).count(reason) == 1
    actions = response.text.split('id="actions"')[1].split('id="history"')[0]
    assert "customer_finished" not in text_of(actions)
    assert response.text.count('id="notice"') == 1
    # The box it is about is marked, and what was typed is kept.
    assert re.search(r'name="customer_finished" value="true"\s+aria-invalid="true"', block)
    assert "Late\nRude driver</textarea>" in block
    assert stored(desk, "DESK-103").step == "air_grievances"
    # A reload (GET of the page the browser is on) shows the same form and reason again.
    again = desk.get(response.history[0].headers["location"])
    assert again.status_code == 200 and reason in text_of(again.text)
    assert "Late\nRude driver</textarea>" in form_block(again.text, "hear_grievances")


def test_a_kept_form_is_its_agents_and_cases_only(desk: TestClient, tmp_path: Path) -> None:
    submit(desk, "DESK-103", "acknowledge_feelings", {"feelings": "Upset."})
    response = submit(desk, "DESK-103", "hear_grievances", {"points": "Private words"})
    location = response.history[0].headers["location"].split("#")[0]
    token = location.split("form=")[1]
    # Another case with the same token: no answers shown, a note that the form is not kept.
    other = desk.get(f"/cases/DESK-101?form={token}")
    assert other.status_code == 200 and "Private words" not in other.text
    assert "That form is no longer kept" in text_of(other.text)
    assert desk.get("/cases/DESK-103?form=no/such").status_code == 400
    # Another agent on the same case: the same.
    with signed_in(desk.app, "lee") as lee:
        seen = lee.get(location)
        assert seen.status_code == 200 and "Private words" not in seen.text


def test_the_action_url_in_the_address_bar_goes_to_the_case(desk: TestClient) -> None:
    response = desk.get("/cases/DESK-103/actions/hear_grievances", follow_redirects=False)
    assert (response.status_code, response.headers["location"]) == (303, "/cases/DESK-103")
    assert desk.get("/cases", follow_redirects=False).headers["location"] == "/"


def test_one_entry_is_one_entry(desk: TestClient) -> None:
    text = text_of(desk.get("/cases/DESK-104").text)
    assert "· 1 entry" in text and "1 entries" not in text
    assert "· 0 entries" in text_of(desk.get("/cases/DESK-103").text)


def test_plan_items_are_chosen_from_the_open_ones(desk: TestClient) -> None:
    block = form_block(desk.get("/cases/DESK-101").text, "complete_item")
    select = re.search(r'<select [^>]*name="item_id"[^>]*>(.*?)</select>', block, re.S)
    assert select, "the plan item is a select"
    options = re.findall(r'<option value="([^"]*)"[^>]*>([^<]*)</option>', select.group(1))
    # "refund" is done already: only the open items, with what each one promised.
    assert options == [
        ("", "— choose —"),
        ("leg", "Courier a replacement leg (leg)"),
        ("call", "Call to check it fits (call)"),
    ]
    response = submit(desk, "DESK-101", "complete_item", {"item_id": "leg"}, follow_redirects=False)
    assert response.status_code == 303
    block = form_block(desk.get("/cases/DESK-101").text, "complete_item")
    assert 'value="leg"' not in block and 'value="call"' in block


def test_a_stale_page_cannot_act(desk: TestClient) -> None:
    page = desk.get("/cases/DESK-103").text
    block = form_block(page, "acknowledge_feelings")
    seq, key = hidden(block, "_expected_seq"), hidden(block, "_key")
    first = post(
        desk,
        "/cases/DESK-103/actions/acknowledge_feelings",
        data={"_expected_seq": seq, "_key": key, "feelings": "Tab one."},
        follow_redirects=False,
    )
    assert first.status_code == 303
    # A second tab rendered from the same state, with its own form key.
    second = post(
        desk,
        "/cases/DESK-103/actions/acknowledge_feelings",
        data={"_expected_seq": seq, "_key": "other-tab", "feelings": "Tab two."},
    )
    assert second.status_code == 409
    assert "Reload" in second.text and "Nothing was recorded" in second.text
    assert 'href="/cases/DESK-103"' in second.text
    assert len(stored(desk, "DESK-103").history) == 1


def test_a_double_submit_records_once(desk: TestClient) -> None:
    page = desk.get("/cases/DESK-103").text
    block = form_block(page, "acknowledge_feelings")
    data = {
        "_expected_seq": hidden(block, "_expected_seq"),
        "_key": hidden(block, "_key"),
        "feelings": "Once.",
    }
    url = "/cases/DESK-103/actions/acknowledge_feelings"
    first = post(desk, url, data=data, follow_redirects=False)
    again = post(desk, url, data=data, follow_redirects=False)
    assert first.status_code == again.status_code == 303
    assert first.headers["location"] == again.headers["location"]
    assert len(stored(desk, "DESK-103").history) == 1
    changed = post(desk, url, data={**data, "feelings": "Twice?"})
    assert changed.status_code == 409  # the same form cannot record something else
    assert len(stored(desk, "DESK-103").history) == 1


def test_add_another_item_keeps_what_was_typed(desk: TestClient, clock: FakeClock) -> None:
    for action, data in [
        ("acknowledge_feelings", {"feelings": "Upset."}),
        ("hear_grievances", {"points": "Late", "customer_finished": "true"}),
        ("give_apology", {"statement": "Sorry."}),
        ("give_assurance", {"commitment": "We will fix it."}),
        ("discuss_solutions", {**READY_TO_DISCUSS, "customer_ready": "true"}),
    ]:
        submit(desk, "DESK-103", action, data, follow_redirects=False)
    due = local(clock.now + dt.timedelta(days=1))
    typed = {
        "agreed_with": "Mr Lee",
        "items[0].id": "a",
        "items[0].description": "First",
        "items[0].due": due,
    }
    response = submit(desk, "DESK-103", "agree_plan", {**typed, "_add": "items"})
    assert response.status_code == 200
    block = form_block(response.text, "agree_plan")
    assert 'name="items[1].id"' in block and 'name="items[2].id"' not in block
    assert 'value="Mr Lee"' in block and f'value="{due}"' in block
    assert stored(desk, "DESK-103").step == "agree"  # nothing was fired
    # The key is kept: the form is the same request, still to be sent.
    assert hidden(block, "_key") == hidden(form_block(response.text, "agree_plan"), "_key")


def test_plan_refusals_mark_the_item_field(desk: TestClient, clock: FakeClock) -> None:
    for action, data in [
        ("acknowledge_feelings", {"feelings": "Upset."}),
        ("hear_grievances", {"points": "Late", "customer_finished": "true"}),
        ("give_apology", {"statement": "Sorry."}),
        ("give_assurance", {"commitment": "We will fix it."}),
        ("discuss_solutions", {**READY_TO_DISCUSS, "customer_ready": "true"}),
    ]:
        submit(desk, "DESK-103", action, data, follow_redirects=False)
    past = local(clock.now - dt.timedelta(days=1))
    response = submit(
        desk,
        "DESK-103",
        "agree_plan",
        {"agreed_with": "Mr Lee", "items[0].id": "a", "items[0].description": "First", "items[0].due": past},
    )
    redirected_to_the_form(response, "DESK-103", "agree_plan")
    block = form_block(response.text, "agree_plan")
    assert re.search(r'aria-invalid="true" name="items\[0\]\.due"', block)
    notice = html.unescape(text_of(block.split('id="notice"')[1].split("</div>")[0]))
    assert "Each plan item needs" in notice and "“Plan items, row 1: Due”" in notice
    assert text_of(response.text).count("Each plan item needs") == 1


def test_typed_times_are_read_in_the_desk_zone(tmp_path: Path, clock: FakeClock) -> None:
    with signed_in(make_app(tmp_path / "desk.db", clock=clock, zone="Europe/Berlin")) as client:
        for action, data in [
            ("acknowledge_feelings", {"feelings": "Upset."}),
            ("hear_grievances", {"points": "Late", "customer_finished": "true"}),
            ("give_apology", {"statement": "Sorry."}),
            ("give_assurance", {"commitment": "We will fix it."}),
            ("reschedule", {"resume_at": "2026-01-06T12:00", "reason": "Needs a break."}),
        ]:
            assert submit(client, "DESK-103", action, data, follow_redirects=False).status_code == 303
        resume = stored(client, "DESK-103").history[-1].evidence_json["resume_at"]
        assert dt.datetime.fromisoformat(resume) == dt.datetime(2026, 1, 6, 11, 0, tzinfo=dt.UTC)
        page = client.get("/cases/DESK-103").text
        assert "2026-01-06 12:00 CET" in page
        assert "Times are shown in Europe/Berlin" in page


# --- who is acting: signing in, the session, CSRF and origin ----------------------------


def entries(client: TestClient, case_id: str) -> int:
    return len(stored(client, case_id).history)


def use_session(client: TestClient, cookie: str) -> None:
    """Make ``cookie`` the client's session cookie (and its only one)."""
    client.cookies.delete(auth.SESSION_COOKIE)
    client.cookies.set(auth.SESSION_COOKIE, cookie)


def test_pages_need_a_signed_in_agent(tmp_path: Path, clock: FakeClock) -> None:
    with browser_like(make_app(tmp_path / "desk.db", clock=clock)) as client:
        home = client.get("/", follow_redirects=False)
        assert home.status_code == 303 and home.headers["location"] == "/signin"
        case = client.get("/cases/DESK-101?recorded=2", follow_redirects=False)
        assert case.status_code == 303
        assert case.headers["location"] == "/signin?next=%2Fcases%2FDESK-101%3Frecorded%3D2"
        for url in ("/cases/new", "/cases/NOPE", "/no/such/page"):
            assert client.get(url, follow_redirects=False).headers["location"].startswith("/signin")
        # A POST without a session is refused, not redirected, and nothing is recorded.
        token = csrf_in(client.get("/signin").text)
        refused = client.post("/cases", data={"_csrf": token, "methodology": "engage", "case_id": "X-1"})
        assert refused.status_code == 401 and "Sign in" in refused.text
        action = client.post(
            "/cases/DESK-103/actions/acknowledge_feelings",
            data={"_csrf": token, "_expected_seq": "0", "feelings": "Nobody signed in."},
        )
        assert action.status_code == 401
        assert entries(client, "DESK-103") == 0
        assert "X-1" not in {s.case_id for s in desk_store(client.app).cases_by_outcome(None)}
        # The sign-in page and the stylesheet are open to all.
        assert client.get("/signin").status_code == 200
        assert client.get("/static/desk.css").status_code == 200


def test_signing_in_with_the_right_password_shows_the_agent_and_roles(
    tmp_path: Path, clock: FakeClock
) -> None:
    with browser_like(make_app(tmp_path / "desk.db", clock=clock)) as client:
        page = client.get("/signin?next=/cases/DESK-104").text
        demo = page.split('id="demo-agents"')[1]
        for agent, roles in [
            ("ana", "agent"),
            ("lee", "agent, legal"),
            ("sam", "agent, go_to_rep, supervisor"),
            ("kim", "agent, complaints_manager"),
        ]:
            assert re.search(rf'data-agent="{agent}">.*?{roles}.*?{agent}-demo', demo)
        assert 'name="next" value="/cases/DESK-104"' in page
        response = sign_in(client, "lee", next="/cases/DESK-104")
        assert response.status_code == 303 and response.headers["location"] == "/cases/DESK-104"
        header = client.get("/cases/DESK-104").text.split("</header>")[0]
        assert re.search(r'id="who-agent">lee<', header)
        assert re.search(r'id="who-roles"[^>]*>agent, legal<', header)


@pytest.mark.parametrize(
    ("agent", "password"),
    [("ana", "wrong"), ("ana", ""), ("ANA", "ana-demo"), ("nobody", "ana-demo"), ("a" * 5000, "x")],
)
def test_a_wrong_password_or_an_unknown_agent_signs_nobody_in(
    tmp_path: Path, clock: FakeClock, agent: str, password: str
) -> None:
    with browser_like(make_app(tmp_path / "desk.db", clock=clock)) as client:
        response = sign_in(client, agent, password)
        assert response.status_code == 401
        # One message for both: the form does not tell which agents exist.
        assert "Unknown agent or wrong password." in response.text
        assert 'id="who"' not in response.text
        assert client.get("/", follow_redirects=False).status_code == 303


def test_after_sign_in_the_browser_goes_only_to_a_page_of_the_desk(tmp_path: Path, clock: FakeClock) -> None:
    for elsewhere in ("//evil.example/", "https://evil.example/", "/\\evil.example", "cases", "/a\r\nb"):
        with browser_like(make_app(tmp_path / "desk.db", clock=clock)) as client:
            response = sign_in(client, next=elsewhere)
            assert response.status_code == 303 and response.headers["location"] == "/", elsewhere


def test_the_session_cookie_is_signed_httponly_and_lax(tmp_path: Path, clock: FakeClock) -> None:
    with browser_like(make_app(tmp_path / "desk.db", clock=clock)) as client:
        response = sign_in(client, "ana")
        cookie = response.headers["set-cookie"]
        assert cookie.startswith(f"{auth.SESSION_COOKIE}=")
        flags = {flag.strip().lower() for flag in cookie.split(";")[1:]}
        assert {"httponly", "samesite=lax", "path=/", f"max-age={auth.SESSION_SECONDS}"} <= flags
        # The payload is readable but signed: changing who it names makes it nobody's session.
        value = client.cookies[auth.SESSION_COOKIE]
        payload, signature = value.split(".", 1)
        forged = base64.b64encode(
            base64.b64decode(payload).replace(b'"agent": "ana"', b'"agent": "sam"')
        ).decode()
        use_session(client, f"{forged}.{signature}")
        assert client.get("/", follow_redirects=False).headers["location"] == "/signin"


def test_the_actor_is_the_signed_in_agent_whatever_the_form_or_cookies_say(
    tmp_path: Path, clock: FakeClock
) -> None:
    with signed_in(make_app(tmp_path / "desk.db", clock=clock), "lee") as client:
        client.cookies.set("desk_agent", "sam")  # the cookie the desk once took the actor from
        response = submit(
            client,
            "DESK-103",
            "acknowledge_feelings",
            {"feelings": "Upset.", "actor": "sam", "agent": "sam", "_actor": "sam", "_agent": "sam"},
            follow_redirects=False,
        )
        assert response.status_code == 303
        assert stored(client, "DESK-103").history[-1].actor == "lee"
        page = client.get(response.headers["location"]).text
        assert "Entry 1 by lee" in text_of(page)
        # The old way of naming yourself is gone.
        assert post(client, "/agent", {"agent": "sam"}).status_code == 404


def test_signing_out_ends_the_session_in_every_browser(tmp_path: Path, clock: FakeClock) -> None:
    app = make_app(tmp_path / "desk.db", clock=clock)
    with signed_in(app, "kim") as client, signed_in(app, "kim") as other:
        copied = client.cookies[auth.SESSION_COOKIE]
        response = post(client, "/signout", follow_redirects=False)
        assert response.status_code == 303 and response.headers["location"] == "/signin"
        assert client.get("/", follow_redirects=False).headers["location"] == "/signin"
        # A copy of the old cookie, and kim's session in another browser, are over too.
        use_session(client, copied)
        assert client.get("/", follow_redirects=False).status_code == 303
        assert other.get("/", follow_redirects=False).status_code == 303
        assert sign_in(other, "kim").status_code == 303
        assert other.get("/").status_code == 200


# Each POST route, with a form that would do something if it got through.
POSTS: list[tuple[str, dict[str, str]]] = [
    ("/cases", {"methodology": "engage", "case_id": "CSRF-1"}),
    ("/cases/DESK-103/actions/acknowledge_feelings", {"_expected_seq": "0", "feelings": "Forged."}),
    ("/signout", {}),
    ("/signin", {"agent": "sam", "password": "sam-demo"}),
]


@pytest.mark.parametrize(("url", "data"), POSTS, ids=[url for url, _ in POSTS])
def test_a_post_without_the_sessions_csrf_token_is_refused(
    tmp_path: Path, clock: FakeClock, url: str, data: dict[str, str]
) -> None:
    app = make_app(tmp_path / "desk.db", clock=clock)
    with signed_in(app, "ana") as client, browser_like(app) as stranger:
        tokens: dict[str, dict[str, str]] = {
            "missing": {},
            "wrong": {"_csrf": csrf_in(client.get("/").text)[:-2] + "xx"},
            "empty": {"_csrf": ""},
            "another session's": {"_csrf": csrf_in(stranger.get("/signin").text)},
            "not ASCII": {"_csrf": "é" * 43},
        }
        for name, sent in tokens.items():
            response = client.post(url, data={**data, **sent}, follow_redirects=False)
            assert response.status_code == 403, name
            assert "reload it" in text_of(response.text), name
        assert entries(client, "DESK-103") == 0
        assert "CSRF-1" not in text_of(client.get("/").text)
        # Still signed in, and as ana.
        assert re.search(r'id="who-agent">ana<', client.get("/").text)


def test_a_post_from_another_origin_is_refused_even_with_the_token(desk: TestClient) -> None:
    page = desk.get("/cases/DESK-103").text
    block = form_block(page, "acknowledge_feelings")
    data = {name: hidden(block, name) for name in ("_csrf", "_expected_seq", "_key")}
    desk.headers.pop("Origin")
    for headers in [
        {"Origin": "http://evil.example"},
        {"Origin": "null"},
        {"Origin": "http://testserver:8080"},
        {"Origin": "https://testserver"},
        {"Origin": "http://testserver.evil.example"},
        {"Origin": "http://testserver:99999"},
        {"Origin": "", "Referer": f"{ORIGIN}/cases/DESK-103"},
        {"Referer": "http://evil.example/cases/DESK-103"},
        {"Referer": "not a url"},
        {},
    ]:
        response = desk.post(
            "/cases/DESK-103/actions/acknowledge_feelings",
            data={**data, "feelings": "From elsewhere."},
            headers=headers,
            follow_redirects=False,
        )
        assert response.status_code == 403, headers
        assert "did not come from the desk" in text_of(response.text)
    assert entries(desk, "DESK-103") == 0


def test_without_an_origin_a_same_origin_referer_is_enough(desk: TestClient) -> None:
    page = desk.get("/cases/DESK-103").text
    block = form_block(page, "acknowledge_feelings")
    data = {name: hidden(block, name) for name in ("_csrf", "_expected_seq", "_key")}
    desk.headers.pop("Origin")
    response = desk.post(
        "/cases/DESK-103/actions/acknowledge_feelings",
        data={**data, "feelings": "From a browser that sends no Origin."},
        headers={"Referer": f"{ORIGIN}/cases/DESK-103"},
        follow_redirects=False,
    )
    assert response.status_code == 303
    assert entries(desk, "DESK-103") == 1


def test_the_session_secret(tmp_path: Path, clock: FakeClock, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DESK_SECRET", "too short")
    with pytest.raises(auth.ConfigError, match="at least 32 characters"):
        make_app(tmp_path / "desk.db", clock=clock)
    # With DESK_SECRET set, a session outlives the process that signed it ...
    monkeypatch.setenv("DESK_SECRET", "s" * 40)
    with signed_in(make_app(tmp_path / "desk.db", clock=clock)) as client:
        cookie = client.cookies[auth.SESSION_COOKIE]
    with browser_like(make_app(tmp_path / "desk.db", clock=clock)) as client:
        use_session(client, cookie)
        assert client.get("/", follow_redirects=False).status_code == 200
    # ... and without it each process makes its own, so a restart signs everyone out.
    monkeypatch.delenv("DESK_SECRET")
    with signed_in(make_app(tmp_path / "desk.db", clock=clock)) as client:
        cookie = client.cookies[auth.SESSION_COOKIE]
    with browser_like(make_app(tmp_path / "desk.db", clock=clock)) as client:
        use_session(client, cookie)
        assert client.get("/", follow_redirects=False).status_code == 303


def test_agents_are_stored_with_roles_and_argon2_hashes(tmp_path: Path, clock: FakeClock) -> None:
    import sqlalchemy as sa

    app = make_app(tmp_path / "desk.db", clock=clock)
    engine = app.state.desk.engine
    with engine.connect() as conn:
        rows = {r.id: r for r in conn.execute(sa.select(auth.AGENTS))}
        roles = sorted(conn.execute(sa.select(auth.AGENT_ROLES.c.agent_id, auth.AGENT_ROLES.c.role)).all())
    assert set(rows) == {"ana", "lee", "sam", "kim"}
    assert all(r.password_hash.startswith("$argon2id$") and r.demo for r in rows.values())
    assert not any(f"{agent}-demo" in r.password_hash for agent, r in rows.items())
    assert roles == sorted(
        [
            ("ana", "agent"),
            ("lee", "agent"),
            ("lee", "legal"),
            ("sam", "agent"),
            ("sam", "go_to_rep"),
            ("sam", "supervisor"),
            ("kim", "agent"),
            ("kim", "complaints_manager"),
        ]
    )
    # Unless told otherwise, the desk hashes with argon2-cffi's defaults.
    default = create_app(tmp_path / "desk.db", clock=clock).state.desk.hasher
    assert (default.time_cost, default.memory_cost, default.parallelism) == (
        PasswordHasher().time_cost,
        PasswordHasher().memory_cost,
        PasswordHasher().parallelism,
    )


def test_current_agent_gives_the_id_and_roles(tmp_path: Path, clock: FakeClock) -> None:
    from starlette.requests import Request

    app = make_app(tmp_path / "desk.db", clock=clock)
    seen: list[auth.Agent] = []

    async def whoami(request: Request) -> Any:
        from starlette.responses import PlainTextResponse

        seen.append(auth.current_agent(request))
        actor = auth.actor_for(seen[-1])
        return PlainTextResponse(f"{actor.id} {','.join(sorted(actor.roles))}")

    app.add_route("/whoami", whoami)
    with signed_in(app, "sam") as client:
        assert client.get("/whoami").text == "sam agent,go_to_rep,supervisor"
    assert seen == [auth.Agent("sam", frozenset({"agent", "go_to_rep", "supervisor"}))]


def test_a_database_without_agents_gets_the_demo_agents(tmp_path: Path, clock: FakeClock) -> None:
    with signed_in(make_app(tmp_path / "desk.db", clock=clock, demo=False), "kim") as client:
        assert "No open cases." in client.get("/").text
    # A database from before the desk had agents: the tables are added, with the demo agents.
    import sqlalchemy as sa

    old = tmp_path / "old.db"
    make_app(old, clock=clock).state.desk.engine.dispose()
    engine = sa.create_engine(f"sqlite:///{old}")
    with engine.begin() as conn:
        conn.execute(sa.text("DROP TABLE desk_agent_roles"))
        conn.execute(sa.text("DROP TABLE desk_agents"))
    engine.dispose()
    with signed_in(make_app(old, clock=clock), "lee") as client:
        assert "DESK-101" in client.get("/").text


def test_a_failed_agent_seed_leaves_no_database(
    tmp_path: Path, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    def fail(*args: object) -> bool:
        raise RuntimeError("no agents today")

    monkeypatch.setattr(auth, "seed_demo_agents", fail)
    with pytest.raises(RuntimeError, match="no agents today"):
        make_app(tmp_path / "desk.db", clock=clock)
    assert list(tmp_path.iterdir()) == []


# --- malformed requests are 4xx, never 500 ----------------------------------------------


MALFORMED_URLS: list[tuple[str, int]] = [
    ("/cases/" + "a" * 201, 404),
    ("/cases/" + "a" * 5000, 404),
    ("/cases/%20", 404),
    ("/cases/%09", 404),
    ("/cases/%00", 404),
    ("/cases/a%0Ab", 404),
    ("/cases/%FF%FE", 404),
    ("/cases/DESK-101?recorded=" + "9" * 5000, 400),
    ("/cases/DESK-101?recorded=²", 400),
    ("/cases/DESK-101?recorded=١", 400),
    ("/cases/DESK-101?recorded=-1", 400),
    ("/cases/DESK-101?recorded=1.5", 400),
    ("/cases/DESK-101?recorded=", 400),
    ("/cases/DESK-101?recorded=99", 200),  # a number, but no such entry: no banner
    ("/cases/new?methodology=" + "x" * 10_000, 200),
    ("/signin?next=" + "/x" * 5000, 200),
    ("/no/such/page", 404),
    ("/signout", 405),
]


def test_malformed_urls_get_a_4xx_page(desk: TestClient) -> None:
    for url, status in MALFORMED_URLS:
        response = desk.get(url)
        assert response.status_code == status, url[:60]
        assert "<html" in response.text


MALFORMED_POSTS: list[tuple[str, dict[str, str], int]] = [
    ("/cases/%20/actions/acknowledge_feelings", {"_expected_seq": "0"}, 404),
    ("/cases/" + "a" * 201 + "/actions/acknowledge_feelings", {"_expected_seq": "0"}, 404),
    ("/cases/DESK-103/actions/%20", {"_expected_seq": "0"}, 404),
    ("/cases/DESK-103/actions/" + "a" * 5000, {"_expected_seq": "0"}, 404),
    ("/cases/DESK-103/actions/acknowledge_feelings", {"_expected_seq": "9" * 5000}, 400),
    ("/cases/DESK-103/actions/acknowledge_feelings", {"_expected_seq": "9" * 40}, 400),
    ("/cases/DESK-103/actions/acknowledge_feelings", {"_expected_seq": "²"}, 400),
    ("/cases/DESK-103/actions/acknowledge_feelings", {"_expected_seq": "-1"}, 400),
    ("/cases/DESK-103/actions/acknowledge_feelings", {}, 400),
    ("/cases/DESK-101/actions/complete_item", {"_expected_seq": "7", "_key": "k" * 5000}, 400),
    ("/cases", {"methodology": "x" * 5000, "case_id": ""}, 422),
    ("/cases", {"methodology": "engage", "case_id": "x" * 5000}, 422),
    ("/cases", {"methodology": "", "case_id": " "}, 422),
]


def test_malformed_posts_get_a_4xx_page_and_record_nothing(desk: TestClient) -> None:
    for url, data, status in MALFORMED_POSTS:
        response = post(desk, url, {"feelings": "Upset.", "item_id": "leg", **data})
        assert response.status_code == status, (url[:60], str(data)[:60])
    assert entries(desk, "DESK-103") == 0 and entries(desk, "DESK-101") == 7


def test_row_numbers_are_bounded(empty_desk: TestClient, clock: FakeClock) -> None:
    open_case(empty_desk, "seven-as", "ROWS-1")
    for action, data in [
        ("acknowledge_feelings", {"feelings": "Upset."}),
        ("hear_grievances", {"points": "Late", "customer_finished": "true"}),
        ("give_apology", {"statement": "Sorry."}),
        ("give_assurance", {"commitment": "We will fix it."}),
        ("discuss_solutions", {**READY_TO_DISCUSS, "customer_ready": "true"}),
    ]:
        assert submit(empty_desk, "ROWS-1", action, data, follow_redirects=False).status_code == 303
    due = local(clock.now + dt.timedelta(days=1))
    for index in (str(MAX_ROWS), "9" * 5000, "4" * 4300):
        for extra in ({}, {"_add": "items"}):
            response = submit(
                empty_desk,
                "ROWS-1",
                "agree_plan",
                {"agreed_with": "Ms Ortiz", f"items[{index}].id": "x", f"items[{index}].due": due, **extra},
            )
            assert response.status_code == 400, index[:10]
            assert f"at most {MAX_ROWS} rows" in text_of(response.text)
    # The last row there may be: "+ Add another" stops adding.
    last = MAX_ROWS - 1
    full = submit(
        empty_desk,
        "ROWS-1",
        "agree_plan",
        {"agreed_with": "Ms Ortiz", f"items[{last}].id": "x", f"items[{last}].due": due, "_add": "items"},
    )
    assert full.status_code == 200
    block = form_block(full.text, "agree_plan")
    assert f'name="items[{last}].id"' in block and f'name="items[{MAX_ROWS}].id"' not in block
    assert entries(empty_desk, "ROWS-1") == 5


def test_too_many_fields_is_400(desk: TestClient) -> None:
    response = post(desk, "/cases", {f"f{n}": "" for n in range(1500)})
    assert response.status_code == 400


# --- the body limit ---------------------------------------------------------------------


def test_a_body_over_the_limit_is_413(desk: TestClient) -> None:
    token = csrf_in(desk.get("/cases/new").text)
    padding = "x" * guard.MAX_BODY
    response = desk.post(
        "/cases/DESK-103/actions/acknowledge_feelings",
        data={"_csrf": token, "_expected_seq": "0", "feelings": "Big.", "padding": padding},
    )
    assert response.status_code == 413
    assert "1 MB" in text_of(response.text)
    assert response.headers["connection"] == "close"
    assert entries(desk, "DESK-103") == 0
    # Just under the limit is read as usual.
    response = desk.post(
        "/cases/DESK-103/actions/acknowledge_feelings",
        data={"_csrf": token, "_expected_seq": "0", "feelings": "Big.", "padding": padding[:-1000]},
        follow_redirects=False,
    )
    assert response.status_code == 303


def _asgi_post(
    app: Any, path: str, headers: list[tuple[bytes, bytes]], chunks: Iterator[bytes]
) -> tuple[int, int]:
    """Send a POST straight to the ASGI app; returns (status, bytes of the body the app pulled)."""
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", b"testserver"), (b"origin", ORIGIN.encode()), *headers],
        "client": ("127.0.0.1", 50000),
        "server": ("testserver", 80),
    }
    pulled = 0
    status = 0

    async def receive() -> dict[str, Any]:
        nonlocal pulled
        chunk = next(chunks, None)
        if chunk is None:
            return {"type": "http.request", "body": b"", "more_body": False}
        pulled += len(chunk)
        return {"type": "http.request", "body": chunk, "more_body": True}

    async def send(message: dict[str, Any]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]

    asyncio.run(app(scope, receive, send))
    return status, pulled


def _endless(size: int = 64 * 1024) -> Iterator[bytes]:
    """A 200 MB body, made as it is read."""
    for _ in range(200 * 1024 * 1024 // size):
        yield b"a" * size


def test_a_200_mb_upload_is_refused_without_reading_it(tmp_path: Path, clock: FakeClock) -> None:
    app = make_app(tmp_path / "desk.db", clock=clock)
    form = (b"content-type", b"application/x-www-form-urlencoded")
    # Declared: refused on the header, before a byte of the body is read.
    status, pulled = _asgi_post(app, "/signin", [form, (b"content-length", b"209715200")], _endless())
    assert (status, pulled) == (413, 0)
    # Not declared (chunked): refused as soon as what arrived passes the limit.
    status, pulled = _asgi_post(app, "/signin", [form], _endless())
    assert status == 413
    assert guard.MAX_BODY < pulled <= guard.MAX_BODY + 64 * 1024
    # The same for a multipart upload, and before the sign-in check for a page that needs one.
    multipart = (b"content-type", b"multipart/form-data; boundary=b")
    status, pulled = _asgi_post(app, "/cases", [multipart, (b"content-length", b"209715200")], _endless())
    assert (status, pulled) == (413, 0)
    upload = b'--b\r\nContent-Disposition: form-data; name="f"; filename="big.bin"\r\n\r\n'
    status, pulled = _asgi_post(app, "/signin", [multipart], itertools.chain([upload], _endless()))
    assert status == 413 and pulled <= guard.MAX_BODY + 64 * 1024
    status, _ = _asgi_post(app, "/signin", [form, (b"content-length", b"12abc")], _endless())
    assert status == 400


# --- who acts: roles from the session (issue 13) ------------------------------------------


def test_a_host_name_the_desk_is_not_served_under_is_refused(desk: TestClient) -> None:
    """A name rebound to this machine (DNS rebinding) does not reach the desk, signed in or not."""
    response = desk.get("/", headers={"Host": "attacker.example"})
    assert response.status_code == 400


ROLE_GUARDED = """
resolveflow: 1
id: desk-roles
version: "1.0"
title: Approval by a supervisor
source: resolveflow tests
initial: propose
required_steps: [propose, approve]
roles: [agent, supervisor]
steps:
  - {id: propose, title: Propose}
  - {id: approve, title: Approve}
outcomes:
  - {id: done, title: Done, successful: true}
actions:
  - {name: propose_it, title: Propose it, sources: [propose], target: approve}
  - name: approve_it
    title: Approve it
    sources: [approve]
    target: done
    guards: [{kind: has_role, role: supervisor}, {kind: other_than, step: propose}]
"""


def test_role_refusals_show_for_the_signed_in_agent_and_roles_are_recorded(
    tmp_path: Path, clock: FakeClock
) -> None:
    from resolveflow.files import methodology_from_text
    from resolveflow.testing import registered

    with registered(methodology_from_text(ROLE_GUARDED, "yaml")):
        app = make_app(tmp_path / "desk.db", clock=clock)
        store = desk_store(app)
        store.open_case("desk-roles", case_id="R-1")
        store.fire("R-1", "propose_it", actor=resolveflow.Actor("ana", roles={"agent"}))
        with signed_in(app, "ana") as ana:
            page = ana.get("/cases/R-1").text
            assert "Only someone with the role &#39;supervisor&#39; may do this." in page
            refused = post(ana, "/cases/R-1/actions/approve_it", {"_expected_seq": "1"})
            assert [r.status_code for r in refused.history] == [303]
            assert store.summary("R-1").last_seq == 1
        with signed_in(app, "sam") as sam:
            response = post(
                sam, "/cases/R-1/actions/approve_it", {"_expected_seq": "1"}, follow_redirects=False
            )
            assert response.status_code == 303, response.text
        entry = store.load("R-1").history[-1]
        assert (entry.actor, entry.roles) == ("sam", {"agent", "go_to_rep", "supervisor"})


def test_the_desk_has_an_svg_favicon_open_to_all(tmp_path: Path, clock: FakeClock) -> None:
    app = make_app(tmp_path / "desk.db", clock=clock, demo=False)
    with browser_like(app) as client:  # not signed in: the sign-in page shows the icon too
        page = client.get("/signin").text
        assert '<link rel="icon" href="/static/favicon.svg" type="image/svg+xml">' in page
        old_style = client.get("/favicon.ico", follow_redirects=False)
        assert (old_style.status_code, old_style.headers["location"]) == (301, "/static/favicon.svg")
        icon = client.get("/static/favicon.svg")
        assert icon.status_code == 200 and icon.headers["content-type"].startswith("image/svg+xml")
        assert icon.text.startswith("<svg") and len(icon.content) < 2000


# --- the case list's filters, the promise calendar, the reports --------------------------


def row_ids(page: str) -> list[str]:
    return re.findall(r'<tr id="row-([^"]+)"', page)


def test_the_case_list_filters_by_step_outcome_overdue_and_agent(desk: TestClient) -> None:
    everything = row_ids(desk.get("/").text)
    assert len(everything) == 8
    assert row_ids(desk.get("/?step=act").text) == ["DESK-101"]
    assert set(row_ids(desk.get("/?overdue=1").text)) == {"DESK-101", "DESK-102"}
    assert row_ids(desk.get("/?outcome=resolved").text) == ["DESK-105"]
    assert row_ids(desk.get("/?outcome=closed").text) == ["DESK-105"]
    assert set(row_ids(desk.get("/?outcome=open").text)) == set(everything) - {"DESK-105"}
    # The agent filter: the cases an agent recorded something on.
    assert row_ids(desk.get("/?agent=ana").text) == []
    submit(desk, "DESK-103", "acknowledge_feelings", {"feelings": "Cross."}, follow_redirects=False)
    page = desk.get("/?agent=ana").text
    assert row_ids(page) == ["DESK-103"]
    assert "1 of 8 cases match." in text_of(page) and 'id="clear-filters"' in page
    assert set(row_ids(desk.get("/?agent=demo&overdue=1").text)) == {"DESK-101", "DESK-102"}
    # The filters offer what there is, and keep what was chosen.
    form = desk.get("/?step=act&agent=ana").text.split('id="filters"')[1].split("</form>")[0]
    assert '<option value="act" selected>Act on the plan</option>' in form
    assert '<option value="ana" selected>ana</option>' in form
    for agent in ("kim", "lee", "sam"):
        assert f'<option value="{agent}" >{agent}</option>' in form
    # Nothing matches: said so; odd values are no filter, not an error.
    assert "No open cases match." in text_of(desk.get("/?step=nowhere").text)
    assert desk.get("/?step=" + "x" * 5000).status_code == 200
    assert desk.get("/?agent=%00").status_code == 200


def test_the_promise_calendar(desk: TestClient, clock: FakeClock) -> None:
    page = desk.get("/promises").text
    late = text_of(page.split('id="overdue-promises"')[1].split("</section>")[0])
    assert "Courier a replacement leg" in late and "Too upset to agree anything today." in late
    soon = text_of(page.split('id="due-soon"')[1].split("</section>")[0])
    # The demo plan's last item falls due a day from now.
    assert "Tomorrow" in soon and "Call to check it fits" in soon and "DESK-101" in soon
    assert "Courier a replacement leg" not in soon
    clock.advance(days=30)
    page = desk.get("/promises").text
    assert "Nothing falls due in the next 14 days." in text_of(page)
    assert "Call to check it fits" in text_of(page.split('id="overdue-promises"')[1].split("</section>")[0])


def test_the_reports_page_shows_the_reports_figures_and_chart(desk: TestClient) -> None:
    page = desk.get("/reports").text
    text = text_of(page)
    analytics = resolveflow.store.analyze(desk_store(desk.app))
    assert f"{analytics.cases} cases" in text
    chart = page.split('id="time-in-step"')[1].split("</section>")[0]
    assert "<svg" in chart and "<?xml" not in chart
    assert "seven-as" in chart and "air_grievances" in chart
    outcomes = text_of(page.split('id="outcomes"')[1].split("</section>")[0])
    assert "four-steps resolved 1" in outcomes
    resolution = text_of(page.split('id="resolution"')[1].split("</section>")[0])
    assert "four-steps resolved" in resolution
    overdue = text_of(page.split('id="overdue-counts"')[1].split("</section>")[0])
    assert "plan item" in overdue and "follow up" in overdue
    # A refusal shows up in its table.
    submit(desk, "DESK-103", "acknowledge_feelings", {"feelings": "Cross."}, follow_redirects=False)
    submit(desk, "DESK-103", "hear_grievances", {"points": "Late"})
    refusals = text_of(desk.get("/reports").text.split('id="refusals"')[1].split("</section>")[0])
    assert "customer finished 1" in refusals


def test_an_empty_desk_has_reports_and_promises(empty_desk: TestClient) -> None:
    assert "No cases yet." in text_of(empty_desk.get("/reports").text)
    assert "Nothing is late." in text_of(empty_desk.get("/promises").text)


def test_resolveflow_desk_says_which_extra_it_needs(monkeypatch: pytest.MonkeyPatch) -> None:
    import sys

    from click.testing import CliRunner

    from resolveflow.cli import main

    # As if the desk extra were not installed: the desk's modules unloaded, Starlette not importable.
    for name in [n for n in sys.modules if n == "resolveflow.desk" or n.startswith("resolveflow.desk.")]:
        monkeypatch.delitem(sys.modules, name)
    for name in [n for n in sys.modules if n == "starlette" or n.startswith("starlette.")]:
        monkeypatch.setitem(sys.modules, name, None)
    monkeypatch.setitem(sys.modules, "starlette", None)
    # Were the desk to start after all, it would fail to bind this address rather than serve forever.
    result = CliRunner().invoke(main, ["desk", "--host", "256.0.0.1", "--port", "0"])
    assert result.exit_code == 2
    assert result.output == (
        "resolveflow desk: the command needs the desk extra: pip install 'resolveflow[cli,desk]'\n"
    )
