"""Found in review: the desk's kept forms are bounded in what they hold, and its pages cannot be framed."""

from __future__ import annotations

from typing import Any

from starlette.testclient import TestClient

from tests.test_desk import csrf_in, desk  # noqa: F401 - the fixture


def test_kept_forms_hold_a_bounded_amount_of_text(desk: TestClient) -> None:  # noqa: F811
    app: Any = desk.app
    drafts = app.state.desk.drafts
    # One "add another row" post of nearly the body limit, in the 1000 fields Starlette reads.
    filler = "&".join(f"f{i}=" + "x" * 1000 for i in range(990))
    body = f"_csrf={csrf_in(desk.get('/cases/new').text)}&_add=x&_expected_seq=0&{filler}"
    posts = 40
    for _ in range(posts):
        response = desk.post(
            "/cases/DESK-103/actions/acknowledge_feelings",
            content=body,
            headers={"Content-Type": "application/x-www-form-urlencoded"},
            follow_redirects=False,
        )
        assert response.status_code == 303, response.text[-500:]
    # (Each kept value is a Draft, or a (Draft, size) pair: the test reads either.)
    kept = [value[0] if isinstance(value, tuple) else value for value in drafts._kept.values()]
    typed = sum(sum(len(k) + len(v) for k, v in d.submission.values.items()) for d in kept)
    assert typed <= 16 * 1024 * 1024, f"{typed / 1e6:.0f} MB of posted text kept after {posts} posts"
    # The newest form is still there for the page the browser was sent to.
    location = response.headers["location"].split("#")[0]
    assert desk.get(location).status_code == 200
    assert "That form is no longer kept" not in desk.get(location).text


def test_no_desk_page_can_be_framed(desk: TestClient) -> None:  # noqa: F811
    # SameSite=Lax keeps the session out of a cross-site frame, not out of a sibling
    # subdomain's: the pages whose buttons record say they may not be framed at all.
    for path in ("/", "/cases/DESK-103", "/cases/new", "/promises", "/reports", "/cases/nope"):
        response = desk.get(path)
        assert response.headers.get("x-frame-options") == "DENY", path
        assert "frame-ancestors 'none'" in response.headers.get("content-security-policy", ""), path
