"""The example help desk in a real browser: Playwright driving Debian's Chromium.

The desk runs as ``resolveflow desk`` (``python -m resolveflow.cli desk``) in a subprocess on a free
127.0.0.1 port with a temporary SQLite file (so the demo cases are there too).
An agent signs in (and out) through the form, an action is refused for a role
the agent lacks and approved by a second agent (four eyes), a seven A's case is walked from
acknowledge to resolved through the forms, refusals are checked on the page, a
reload keeps the state, two tabs cannot both act, a page on another origin
cannot make the browser record anything, and the main pages are screenshotted.
The real server also refuses a 200 MB upload without reading it.

Passwords are hashed with the desk's real argon2 parameters (about half a
second a hash here), so the browser signs in once for the module and every
test starts from that session (Playwright's storage state); only the sign-in
test signs in again.

Needs the ``playwright`` package (its bundled driver; no browser download) and
Chromium at /usr/bin/chromium (``apt-get install chromium``; scripts/_system.sh
installs it for the test command). Without them the tests are skipped, except
under CI=true, where that is a failure.
"""

from __future__ import annotations

import datetime as dt
import http.server
import importlib.util
import os
import queue
import re
import select
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import resolveflow

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = Path(os.environ.get("DESK_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
STARTUP_SECONDS = 30
# A methodology whose approval needs a supervisor other than the proposer (four eyes).
ROLES_DIR = ROOT / "tests" / "data" / "desk_methodologies"
# A screenshot of a rendered page is tens of kilobytes; a blank one is a few hundred bytes.
MIN_SCREENSHOT_BYTES = 10_000


def _missing() -> str | None:
    """Why the browser tests cannot run here, or None."""
    if importlib.util.find_spec("playwright") is None:
        return "playwright is not installed: pip install playwright (no browser download is needed)"
    if not (CHROMIUM.exists() and os.access(CHROMIUM, os.X_OK)):
        return f"Chromium is not at {CHROMIUM}: apt-get install chromium"
    for module in ("starlette", "jinja2", "uvicorn", "python_multipart", "argon2", "itsdangerous"):
        if importlib.util.find_spec(module) is None:
            return f"the desk needs {module}: pip install -e '.[desk]'"
    return None


MISSING = _missing()
if MISSING and os.environ.get("CI") != "true":
    pytest.skip(MISSING, allow_module_level=True)
if not MISSING:
    from playwright.sync_api import Browser, Page, expect, sync_playwright


@pytest.fixture(scope="module", autouse=True)
def _browser_available() -> None:
    # Under CI=true a missing browser is a failure of these tests, not of the whole collection.
    if MISSING:
        pytest.fail(f"under CI=true the browser tests must run: {MISSING}", pytrace=False)


# --- the server and the browser ---------------------------------------------------------


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The desk on a free port, as the README's command starts it; yields its base URL."""
    db = tmp_path_factory.mktemp("desk") / "desk.db"
    # Without DESK_SECRET the desk makes a session key of its own, as it does for a developer.
    env = {name: value for name, value in os.environ.items() if name != "DESK_SECRET"}
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "resolveflow.cli",
            "desk",
            "--db",
            str(db),
            "--port",
            "0",
            "--methodologies",
            str(ROLES_DIR),
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    lines: queue.Queue[str] = queue.Queue()

    def pump() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            lines.put(line)

    threading.Thread(target=pump, daemon=True).start()
    seen: list[str] = []
    try:
        while True:
            try:
                line = lines.get(timeout=STARTUP_SECONDS)
            except queue.Empty:
                pytest.fail(f"the desk did not print its address within {STARTUP_SECONDS} s: {seen}")
            seen.append(line)
            found = re.search(r"http://127\.0\.0\.1:\d+", line)
            if found:
                break
            if process.poll() is not None:
                pytest.fail(f"the desk exited with {process.returncode}: {''.join(seen)}")
        yield found.group(0)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield launched
        launched.close()


def sign_in(page: Page, agent: str, password: str) -> None:
    """Fill in and send the sign-in form on the page the browser is on."""
    page.locator("#sign-in-agent").fill(agent)
    page.locator("#sign-in-password").fill(password)
    page.locator("#sign-in button[type=submit]").click()


@pytest.fixture(scope="module")
def session(server: str, browser: Browser) -> Any:
    """The storage state (the session cookie) of ``ana`` signed in once through the form."""
    context = browser.new_context()
    context.set_default_timeout(10_000)
    try:
        page = context.new_page()
        page.goto(server + "/signin")
        sign_in(page, "ana", "ana-demo")
        expect(page.locator("#who-agent")).to_have_text("ana")
        return context.storage_state()
    finally:
        context.close()


@pytest.fixture
def page(browser: Browser, session: Any) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1280, "height": 900}, storage_state=session)
    context.set_default_timeout(10_000)
    yield context.new_page()
    context.close()


@pytest.fixture(scope="module")
def shots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("screenshots")


def shoot(page: Page, shots: Path, name: str) -> Path:
    path = shots / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert path.stat().st_size > MIN_SCREENSHOT_BYTES, f"{name}.png is only {path.stat().st_size} bytes"
    return path


# --- driving the forms ------------------------------------------------------------------


def act(page: Page, action: str, fields: dict[str, Any] | None = None) -> None:
    """Fill the action's form (text, or True to tick a box) and press its button."""
    form = page.locator(f"#action-{action}")
    for name, value in (fields or {}).items():
        control = form.locator(f'[name="{name}"]')
        if value is True:
            control.check()
        elif control.evaluate("element => element.tagName") == "SELECT":
            control.select_option(value)
        else:
            control.fill(value)
    form.locator("button.primary").click()


def step_is(page: Page, title: str) -> None:
    expect(page.locator("#step-title")).to_have_text(title)


def refusal_message(action: str, evidence: dict[str, Any]) -> str:
    """What resolveflow says when the seven A's refuse ``action`` right after acknowledging."""
    case = resolveflow.open_case("seven-as", case_id="expected")
    case.fire("acknowledge_feelings", {"feelings": "Upset."}, actor="test")
    with pytest.raises(resolveflow.Refused) as refused:
        case.fire(action, evidence, actor="test")
    return refused.value.refusals[0].message


def title(step: str) -> str:
    return resolveflow.get_methodology("seven-as").node(step).title


# --- the tests --------------------------------------------------------------------------


def test_the_case_list_and_the_open_a_case_page(server: str, page: Page, shots: Path) -> None:
    page.goto(server + "/")
    expect(page.locator("h1")).to_have_text("Cases")
    expect(page.locator("#row-DESK-101 .overdue-flag")).to_have_text("1 overdue")
    expect(page.locator("#deadlines")).to_contain_text("Courier a replacement leg")
    shoot(page, shots, "cases")
    page.get_by_role("link", name="Open a case").first.click()
    expect(page.locator("h1")).to_have_text("Open a case")
    for methodology_id in resolveflow.available():
        expect(page.locator(f'input[name="methodology"][value="{methodology_id}"]')).to_have_count(1)
    shoot(page, shots, "open-a-case")


def test_a_seeded_case_shows_overdue_refusals_and_the_diagram(server: str, page: Page, shots: Path) -> None:
    page.goto(server + "/cases/DESK-101")
    step_is(page, title("act"))
    expect(page.locator("#overdue")).to_contain_text("Courier a replacement leg")
    expect(page.locator("#refused-complete_plan")).to_contain_text(
        "Finish every item of the agreed plan first."
    )
    expect(page.locator("#refused-complete_plan li[data-code=all_plan_items_done]")).to_have_count(1)
    expect(page.locator("#progress li.done")).to_have_count(5)
    if shutil.which("dot"):
        expect(page.locator("#diagram svg")).to_have_count(1)
    else:
        expect(page.locator("#diagram pre.mermaid-source")).to_contain_text("stateDiagram-v2")
    shoot(page, shots, "case-overdue")


def test_a_seven_as_case_walks_to_resolved_through_the_forms(server: str, page: Page, shots: Path) -> None:
    page.goto(server + "/cases/new")
    page.locator('input[name="methodology"][value="seven-as"]').check()
    page.locator("#case-id").fill("BROWSER-1")
    page.locator("#open-case button[type=submit]").click()
    step_is(page, title("acknowledge"))
    expect(page.locator("#case-title")).to_have_text("Case BROWSER-1")

    act(page, "acknowledge_feelings", {"feelings": "Angry: the sofa arrived broken."})
    step_is(page, title("air_grievances"))
    expect(page.locator("#notice")).to_contain_text("Recorded: Feelings acknowledged")

    # Moving on before the customer has finished is refused, and the page says why.
    act(page, "hear_grievances", {"points": "Broken leg\nNobody called back"})
    # Post/Redirect/Get: the browser is on the case page, the refusal is said once, in words,
    # in the form it is about, and a reload shows it again (no 405, nothing sent twice).
    expect(page).to_have_url(re.compile(r"/cases/BROWSER-1\?form=[\w-]+#action-hear_grievances$"))
    notice = page.locator("#action-hear_grievances #notice")
    reason = refusal_message("hear_grievances", {"points": ["x"], "customer_finished": False})
    expect(notice).to_contain_text("is not possible yet")
    expect(notice).to_contain_text(reason)
    expect(notice).to_contain_text("Still needed: “The customer has finished” ticked.")
    expect(page.get_by_text(reason)).to_have_count(1)
    expect(page.locator("#actions")).not_to_contain_text("customer_finished")
    expect(page.locator('#action-hear_grievances [name="customer_finished"]')).to_have_attribute(
        "aria-invalid", "true"
    )
    expect(page.locator('#action-hear_grievances [name="points"]')).to_have_value(
        "Broken leg\nNobody called back"
    )
    step_is(page, title("air_grievances"))
    shoot(page, shots, "case-refused")
    reloaded = page.reload()
    assert reloaded is not None and reloaded.status == 200
    expect(page.locator("#action-hear_grievances #notice")).to_contain_text(reason)
    expect(page.locator('#action-hear_grievances [name="points"]')).to_have_value(
        "Broken leg\nNobody called back"
    )

    act(page, "hear_grievances", {"customer_finished": True})
    step_is(page, title("apologize"))
    act(
        page,
        "give_apology",
        {"statement": "I am sorry about the damage and the silence.", "admits_fault": True},
    )
    step_is(page, title("assure"))

    # A reload shows the same state: it lives in the store, not in the page.
    page.reload()
    step_is(page, title("assure"))
    expect(page.locator("#history li.entry")).to_have_count(3)
    page.goto(server + "/cases/BROWSER-1")
    step_is(page, title("assure"))

    act(page, "give_assurance", {"commitment": "We will put this right this week."})
    step_is(page, title("assure"))
    act(
        page,
        "discuss_solutions",
        {
            "customer_ready": True,
            "customer_expects": "A sofa that stands, this week.",
            "we_can_offer": "A replacement leg by courier, then a call to check.",
        },
    )
    step_is(page, title("agree"))

    # The plan: one item, then "add another" for a second row, keeping what was typed.
    soon = dt.datetime.now(dt.UTC) + dt.timedelta(days=2)
    plan = page.locator("#action-agree_plan")
    plan.locator('[name="agreed_with"]').fill("Ms Ortiz")
    plan.locator('[name="items[0].id"]').fill("leg")
    plan.locator('[name="items[0].description"]').fill("Courier a replacement leg")
    plan.locator('[name="items[0].due"]').fill(soon.strftime("%Y-%m-%dT%H:%M"))
    expect(plan.locator('[name="items[1].id"]')).to_have_count(0)
    plan.locator("button.add-row").click()
    plan = page.locator("#action-agree_plan")
    expect(plan.locator('[name="items[1].id"]')).to_have_count(1)
    expect(plan.locator('[name="items[0].id"]')).to_have_value("leg")
    expect(plan.locator('[name="agreed_with"]')).to_have_value("Ms Ortiz")
    act(
        page,
        "agree_plan",
        {
            "items[1].id": "call",
            "items[1].description": "Call to check it fits",
            "items[1].due": (soon + dt.timedelta(days=1)).strftime("%Y-%m-%dT%H:%M"),
        },
    )
    step_is(page, title("act"))
    expect(page.locator("#refused-complete_plan")).to_contain_text(
        "plan item “leg” (Courier a replacement leg)"
    )
    # The plan items are chosen from the open ones, by what they promise.
    expect(page.locator('#action-complete_item select[name="item_id"] option')).to_have_text(
        ["— choose —", "Courier a replacement leg (leg)", "Call to check it fits (call)"]
    )
    shoot(page, shots, "case-act")

    act(page, "complete_item", {"item_id": "leg"})
    expect(page.locator("#notice")).to_contain_text("Recorded: Mark a plan item done")
    expect(page.locator("#refused-complete_plan")).not_to_contain_text("“leg”")
    expect(page.locator('#action-complete_item select[name="item_id"] option')).to_have_count(2)
    act(page, "complete_item", {"item_id": "call", "note": "Fits; customer happy."})
    expect(page.locator("#refused-complete_plan")).to_have_count(0)
    act(page, "complete_plan")
    step_is(page, title("accomplish"))
    act(
        page,
        "confirm_satisfaction",
        {"satisfied": True, "thanked": True, "recurrence_assured": True, "comment": "Thanks for sorting it."},
    )

    expect(page.locator("#outcome")).to_have_text("Closed: Resolved")
    expect(page.locator("#progress li.done")).to_have_count(7)
    expect(page.locator("#actions")).to_have_count(0)
    expect(page.locator("#history li.entry")).to_have_count(10)
    page.reload()
    expect(page.locator("#outcome")).to_have_text("Closed: Resolved")
    shoot(page, shots, "case-resolved")

    page.goto(server + "/")
    expect(page.locator("#closed-cases")).to_contain_text("BROWSER-1")


def test_two_tabs_cannot_both_act(server: str, browser: Browser, session: Any) -> None:
    context = browser.new_context(storage_state=session)
    context.set_default_timeout(10_000)
    try:
        first, second = context.new_page(), context.new_page()
        for tab in (first, second):
            tab.goto(server + "/cases/DESK-103")
            step_is(tab, title("acknowledge"))
        act(first, "acknowledge_feelings", {"feelings": "Recorded from the first tab."})
        step_is(first, title("air_grievances"))
        act(second, "acknowledge_feelings", {"feelings": "Sent from a stale second tab."})
        expect(second.locator("#stale")).to_contain_text("Nothing was recorded")
        second.locator("#reload").click()
        step_is(second, title("air_grievances"))
        expect(second.locator("#history li.entry")).to_have_count(1)
        expect(second.locator("#history")).to_contain_text("Recorded from the first tab.")
    finally:
        context.close()


def test_an_agent_signs_in_and_out(server: str, browser: Browser, shots: Path) -> None:
    # kim, not ana: signing out ends every session of the agent, the module's shared one included.
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.set_default_timeout(10_000)
    try:
        page = context.new_page()
        page.goto(server + "/cases/DESK-104")
        expect(page).to_have_url(re.compile(r"/signin\?next=%2Fcases%2FDESK-104$"))
        expect(page.locator("#demo-agents tr[data-agent]")).to_have_count(4)
        expect(page.locator('#demo-agents tr[data-agent="kim"]')).to_contain_text("agent, complaints_manager")
        shoot(page, shots, "sign-in")
        sign_in(page, "kim", "not kim's password")
        expect(page.locator("#sign-in-error")).to_have_text("Unknown agent or wrong password.")
        expect(page.locator("#who")).to_have_count(0)
        page.locator("#sign-in-password").fill("kim-demo")
        page.locator("#sign-in button[type=submit]").click()
        expect(page).to_have_url(server + "/cases/DESK-104")
        expect(page.locator("#who-agent")).to_have_text("kim")
        expect(page.locator("#who-roles")).to_have_text("agent, complaints_manager")
        page.locator("#sign-out").click()
        expect(page).to_have_url(server + "/signin")
        page.goto(server + "/")
        expect(page).to_have_url(server + "/signin")
    finally:
        context.close()


class _Attacker(http.server.BaseHTTPRequestHandler):
    """Another origin (same host, another port): its page posts a form to the desk as it loads."""

    target = ""

    def do_GET(self) -> None:
        body = f"""<!doctype html><title>You won a prize</title>
<form id="forged" method="post" action="{self.target}">
  <input name="_csrf" value="guessed"><input name="_expected_seq" value="0"><input name="_key" value="forged">
  <input name="approach" value="Forged from another site"><input name="customer_responding" value="true">
</form>
<script>document.getElementById("forged").submit()</script>""".encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


def test_a_form_posted_from_another_origin_records_nothing(server: str, page: Page) -> None:
    handler = type("Attacker", (_Attacker,), {"target": f"{server}/cases/DESK-108/actions/take_control"})
    attacker = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=attacker.serve_forever, daemon=True).start()
    try:
        # 127.0.0.1 on another port is another origin but the same site, so the browser sends the
        # signed-in agent's SameSite=Lax cookie along: the Origin check is what refuses it.
        with page.expect_response(lambda r: r.request.method == "POST") as posted:
            page.goto(f"http://127.0.0.1:{attacker.server_address[1]}/")
        response = posted.value
        assert response.url == f"{server}/cases/DESK-108/actions/take_control"
        assert response.status == 403
        assert response.request.headers.get("origin") == f"http://127.0.0.1:{attacker.server_address[1]}"
        expect(page.locator(".notice")).to_contain_text("did not come from the desk")
    finally:
        attacker.shutdown()
        attacker.server_close()
    page.goto(server + "/cases/DESK-108")
    expect(page.locator("#history")).to_contain_text("Nothing recorded yet.")


def _response_to(sock: socket.socket, seconds: float = 10) -> bytes:
    """What the server answers on ``sock`` (up to the end of its headers)."""
    received = b""
    deadline = time.monotonic() + seconds
    while b"\r\n\r\n" not in received and time.monotonic() < deadline:
        try:
            chunk = sock.recv(65536)
        except ConnectionResetError:  # the server closed with our unread body still arriving
            break
        if not chunk:
            break
        received += chunk
    return received


def test_the_server_refuses_a_200_mb_upload_without_reading_it(server: str) -> None:
    host, port = server.removeprefix("http://").split(":")
    head = (
        f"POST /signin HTTP/1.1\r\nHost: {host}:{port}\r\nOrigin: {server}\r\n"
        "Content-Type: application/x-www-form-urlencoded\r\n"
    )
    # Declared: the answer comes before a byte of the body is sent.
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(f"{head}Content-Length: {200 * 1024 * 1024}\r\n\r\n".encode())
        assert _response_to(sock).startswith(b"HTTP/1.1 413 ")
    # Chunked, with no length: the answer comes once a little over 1 MB has arrived, and the
    # connection is closed rather than read to the end.
    sent = 0
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(f"{head}Transfer-Encoding: chunked\r\n\r\n".encode())
        chunk = b"a" * 65536
        answer = b""
        while sent < 200 * 1024 * 1024:
            readable, _, _ = select.select([sock], [], [], 0)
            if readable:
                answer = _response_to(sock)
                break
            try:
                sock.sendall(b"%x\r\n%s\r\n" % (len(chunk), chunk))
            except (BrokenPipeError, ConnectionResetError):
                break
            sent += len(chunk)
        if not answer:
            answer = _response_to(sock)
    assert answer.startswith(b"HTTP/1.1 413 "), answer[:100]
    assert sent < 20 * 1024 * 1024


# --- who acts: roles and four eyes (issue 13) -------------------------------------------


def _open_roles_case(page: Page, server: str, case_id: str) -> None:
    page.goto(server + "/cases/new")
    page.locator('input[name="methodology"][value="desk-roles"]').check()
    page.locator("#case-id").fill(case_id)
    page.locator("#open-case button[type=submit]").click()
    step_is(page, "Propose compensation")
    act(page, "propose_it")
    step_is(page, "Approve the compensation")


def _signed_in_as(browser: Browser, server: str, agent: str) -> Page:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.set_default_timeout(10_000)
    page = context.new_page()
    page.goto(server + "/signin")
    sign_in(page, agent, f"{agent}-demo")
    expect(page.locator("#who-agent")).to_have_text(agent)
    return page


def test_an_action_is_refused_for_a_role_the_agent_lacks(server: str, page: Page, shots: Path) -> None:
    _open_roles_case(page, server, "ROLES-1")  # as ana: roles agent only
    refused = page.locator("#refused-approve_it")
    expect(refused).to_contain_text("Only someone with the role 'supervisor' may do this.")
    expect(page.locator("#action-approve_it")).to_have_count(0)  # no form to submit
    shoot(page, shots, "case-role-refused")


def test_four_eyes_a_second_agent_approves_what_the_first_proposed(
    server: str, page: Page, browser: Browser
) -> None:
    _open_roles_case(page, server, "ROLES-2")  # proposed by ana
    sam = _signed_in_as(browser, server, "sam")  # agent and supervisor
    try:
        sam.goto(server + "/cases/ROLES-2")
        act(sam, "approve_it")
        expect(sam.locator("#outcome")).to_have_text("Closed: Paid")
        expect(sam.locator("#history li.entry")).to_have_count(2)
        # sam may not approve what sam proposed: the page says who must do it.
        _open_roles_case(sam, server, "ROLES-3")
        expect(sam.locator("#refused-approve_it")).to_contain_text(
            "Someone other than whoever acted at step 'propose' must do this."
        )
        expect(sam.locator("#action-approve_it")).to_have_count(0)
    finally:
        sam.context.close()


# --- desktop and phone widths: no page wider than the screen, screenshots for the docs -----------

WIDTHS = {"desktop": {"width": 1280, "height": 900}, "phone": {"width": 390, "height": 844}}
DOCS_IMAGES = ROOT / "docs" / "images"
# What docs/desk.md shows: the tests write them, so they show the desk as it is.
DOC_SHOTS = (
    "desk-cases.png",
    "desk-case.png",
    "desk-case-phone.png",
    "desk-refused-phone.png",
    "desk-reports.png",
    "desk-promises-phone.png",
)
# The docs' screenshots are the viewport (not the whole page) to keep them small.
MAX_DOC_SHOT_BYTES = 250_000


def overflow(page: Page) -> str | None:
    """None when the page is no wider than the viewport, else its width and the elements sticking out."""
    scroll, inner = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    if scroll <= inner:
        return None
    wide = page.evaluate(
        """() => [...document.querySelectorAll('body *')]
            .filter(e => e.getBoundingClientRect().right > innerWidth + 1)
            .slice(0, 5)
            .map(e => `${e.tagName.toLowerCase()}#${e.id}.${e.className} to `
                      + `${Math.round(e.getBoundingClientRect().right)}px`)"""
    )
    return f"{page.url} is {scroll} px wide in a {inner} px viewport: {wide}"


def test_the_overflow_check_can_fail(page: Page) -> None:
    page.set_viewport_size(WIDTHS["phone"])
    page.set_content('<body style="margin:0"><div id="wide" style="width:600px">wide</div></body>')
    found = overflow(page)
    assert found is not None and "600 px wide in a 390 px viewport" in found and "div#wide" in found
    page.set_content('<body style="margin:0"><div style="width:380px">fits</div></body>')
    assert overflow(page) is None


def doc_shot(page: Page, name: str) -> None:
    """Take a docs screenshot; written into docs/images only with DESK_SCREENSHOTS=1.

    The pages show relative times ("3 min ago"), so every run makes different
    bytes: a plain test run checks the shot and leaves the checkout clean, and
    ``DESK_SCREENSHOTS=1 ./scripts/test`` refreshes the docs' images.
    """
    if os.environ.get("DESK_SCREENSHOTS") == "1":
        DOCS_IMAGES.mkdir(exist_ok=True)
        path = DOCS_IMAGES / name
    else:
        path = Path(tempfile.mkdtemp(prefix="desk-shot-")) / name
    page.screenshot(path=str(path), animations="disabled")
    assert MIN_SCREENSHOT_BYTES < path.stat().st_size < MAX_DOC_SHOT_BYTES, (name, path.stat().st_size)


@pytest.fixture(params=sorted(WIDTHS))
def width(request: pytest.FixtureRequest) -> str:
    name: str = request.param
    return name


def test_no_page_is_wider_than_the_screen(server: str, browser: Browser, session: Any, width: str) -> None:
    size = WIDTHS[width]
    problems: list[str] = []
    # Signed out: the sign-in page (with the demo agents' table) and an error page.
    context = browser.new_context(viewport=size)
    context.set_default_timeout(10_000)
    try:
        page = context.new_page()
        for path in ("/signin", "/signin?next=%2Fcases%2FDESK-101"):
            page.goto(server + path)
            problems.append(overflow(page) or "")
    finally:
        context.close()
    # Signed in: every page a link or button leads to, every demo case, a refusal and an error.
    context = browser.new_context(viewport=size, storage_state=session)
    context.set_default_timeout(10_000)
    try:
        page = context.new_page()
        paths = [
            "/",
            "/?overdue=1&agent=demo",
            "/promises",
            "/reports",
            "/cases/new",
            "/cases/no-such-case",
            *(f"/cases/DESK-10{n}" for n in range(1, 9)),
        ]
        for path in paths:
            response = page.goto(server + path)
            assert response is not None and response.status in (200, 404), path
            problems.append(overflow(page) or "")
            # The header's button stays on the screen (it used to fall off the bar at 390 px).
            box = page.locator("#sign-out").bounding_box()
            assert box is not None and box["x"] + box["width"] <= size["width"], (path, box)
        case_id = f"WIDE-{width}"
        page.goto(server + "/cases/new")
        page.locator('input[name="methodology"][value="seven-as"]').check()
        page.locator("#case-id").fill(case_id)
        page.locator("#open-case button[type=submit]").click()
        act(page, "acknowledge_feelings", {"feelings": "Furious: " + "a very long complaint " * 20})
        act(page, "hear_grievances", {"points": "Nobody-answered-the-phone-for-three-whole-days"})
        expect(page.locator("#action-hear_grievances #notice")).to_be_visible()
        problems.append(overflow(page) or "")
        if width == "phone":
            doc_shot(page, "desk-refused-phone.png")
            page.goto(server + "/cases/DESK-101")
            doc_shot(page, "desk-case-phone.png")
            page.goto(server + "/promises")
            doc_shot(page, "desk-promises-phone.png")
        else:
            page.goto(server + "/")
            doc_shot(page, "desk-cases.png")
            page.goto(server + "/cases/DESK-101")
            doc_shot(page, "desk-case.png")
            page.goto(server + "/reports")
            doc_shot(page, "desk-reports.png")
    finally:
        context.close()
    assert not [p for p in problems if p], [p for p in problems if p]


def test_the_docs_show_the_screenshots_the_tests_make() -> None:
    text = (ROOT / "docs" / "desk.md").read_text(encoding="utf-8")
    for name in DOC_SHOTS:
        assert f"](images/{name})" in text, f"docs/desk.md does not show {name}"
        assert (DOCS_IMAGES / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", name


def test_the_filters_promises_and_reports_from_the_header(server: str, page: Page) -> None:
    page.goto(server + "/")
    page.locator("#filter-overdue").check()
    page.locator("#filters button[type=submit]").click()
    expect(page).to_have_url(re.compile(r"/\?.*overdue=1"))
    expect(page.locator("#open-cases tr[id^=row-]")).to_have_count(2)
    expect(page.locator("#row-DESK-101")).to_be_visible()
    expect(page.locator("#row-DESK-102")).to_be_visible()
    expect(page.locator("#filter-overdue")).to_be_checked()
    page.locator("#clear-filters").click()
    expect(page.locator("#filter-count")).to_have_count(0)
    page.get_by_role("link", name="Promises").click()
    expect(page.locator("h1")).to_have_text("Promises")
    expect(page.locator("#overdue-promises")).to_contain_text("Courier a replacement leg")
    page.get_by_role("link", name="Reports").click()
    expect(page.locator("h1")).to_have_text("Reports")
    expect(page.locator("#time-in-step svg")).to_have_count(1)
