"""How the application answers: JSON, a fragment or a page, and one catalogue of error codes."""

from __future__ import annotations

import re

import pytest
from flask import Flask

from dantoc.paths import ROOT
from dantoc.web.errors import BY_STATUS, CATALOGUE, refuse
from dantoc.web.htmx import wants_json

PROBLEM = "application/problem+json"


@pytest.mark.parametrize("path, accept, json", [
    ("/x", None, False),
    ("/x", "*/*", False),  # a browser's fetch, curl: HTML
    ("/x", "text/html, */*", False),
    ("/x", "text/html, application/json", False),
    ("/x", "application/json", True),
    ("/x", "application/json, */*;q=0.01", True),
    ("/x", PROBLEM, True),
    ("/x", "text/html;q=0.5, application/json", True),
    ("/api/v1/x", "text/html", True),  # the API answers JSON whatever the client says
])
def test_wants_json(path, accept, json):
    app = Flask(__name__)
    headers = {"Accept": accept} if accept else {}
    with app.test_request_context(path, headers=headers):
        assert wants_json() is json


def test_any_accept_gets_the_html_error_page(client):
    response = client.get("/no-such-page", headers={"Accept": "*/*"})
    assert response.status_code == 404 and response.mimetype == "text/html"
    assert "<html" in response.get_data(as_text=True)


def test_json_clients_get_problem_json(client):
    response = client.get("/no-such-page", headers={"Accept": "application/json",
                                                    "Accept-Language": "en"})
    assert response.status_code == 404 and response.mimetype == PROBLEM
    problem = response.get_json()
    assert problem["type"].endswith(":not_found") and problem["code"] == "not_found"
    assert problem["status"] == 404 and problem["title"] and problem["detail"]
    assert problem["error"] == {"code": "not_found", "message": problem["detail"]}


def test_an_htmx_swap_gets_the_error_fragment(client):
    response = client.get("/no-such-page", headers={"HX-Request": "true"})
    text = response.get_data(as_text=True)
    assert response.status_code == 404 and "<html" not in text and 'role="alert"' in text


def test_refuse_renders_the_views_page_or_problem_json(app):
    with app.test_request_context("/x", headers={"Accept": "text/html"}):
        body, status = refuse("stale", "Đã đổi", html=lambda: "<p>the page</p>")
        assert (body, status) == ("<p>the page</p>", 409)
    with app.test_request_context("/x", headers={"Accept": "application/json"}):
        response, status = refuse("stale", "Đã đổi", html=lambda: "<p>unused</p>",
                                  current_version=3)
        assert status == 409 and response.get_json()["current_version"] == 3
        assert response.get_json()["detail"] == "Đã đổi"


def test_every_code_is_documented_with_its_status():
    text = (ROOT / "docs" / "errors.md").read_text(encoding="utf-8")
    rows = dict(re.findall(r"^\| `([a-z_]+)` \| (\d{3}) \|", text, re.M))
    assert rows == {code: str(problem.status) for code, problem in CATALOGUE.items()}
    assert set(BY_STATUS.values()) <= set(CATALOGUE)

