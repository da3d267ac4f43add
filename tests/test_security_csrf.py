"""CSRF (ASVS 3.5.1): every state-changing route in ``app.url_map`` refuses a request with
a missing or wrong token, and changes nothing; the real forms and the HTMX header pass."""

import re

import pytest
import sqlalchemy as sa

from dantoc.audit.models import AuditEvent
from dantoc.extensions import csrf, db
from tests.conftest import app_on
from tests.factories import PASSWORD
from tests.security_tree import build_tree, fresh_client, load_route_description, make, sign_in

UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}


@pytest.fixture
def csrf_app(database_url):
    with app_on(database_url, WTF_CSRF_ENABLED=True) as app:
        yield app


def _dummy_url(rule) -> str:
    values = {}
    for name, converter in rule._converters.items():
        values[name] = 1 if type(converter).__name__ in ("IntegerConverter",
                                                         "FloatConverter") else "x"
    return rule.build(values, append_unknown=False)[1]


def _unsafe_routes(app):
    exempt = set(load_route_description().get("csrf_exempt", {}))
    for rule in app.url_map.iter_rules():
        view = app.view_functions[rule.endpoint]
        name = f"{view.__module__}.{view.__name__}"
        if name in csrf._exempt_views or rule.endpoint.split(".")[0] in csrf._exempt_blueprints:
            assert rule.endpoint in exempt, f"{rule.endpoint} is CSRF-exempt without a reason"
            continue
        for method in sorted(set(rule.methods or ()) & UNSAFE):
            yield rule, method


def _audit_rows() -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(AuditEvent))


@pytest.mark.parametrize("signed_in", [False, True])
@pytest.mark.parametrize("token", [None, "bogus-token"])
def test_every_state_changing_route_refuses_a_missing_or_wrong_token(csrf_app, signed_in,
                                                                     token):
    tree = build_tree()
    client = fresh_client(csrf_app)
    if signed_in:
        sign_in(client, make("admin", None))
    routes = list(_unsafe_routes(csrf_app))
    assert len(routes) >= 10
    before = _audit_rows()
    headers = {"X-CSRFToken": token} if token else {}
    for rule, method in routes:
        response = client.open(_dummy_url(rule), method=method, headers=headers,
                                data={"csrf_token": token} if token else {})
        assert response.status_code == 400, (rule.endpoint, method, response.status_code)
        assert b"Traceback" not in response.data
    assert _audit_rows() == before
    assert tree["A"].id  # the tree was not touched either


def test_the_sign_in_form_carries_a_working_token(csrf_app):
    tree = build_tree()
    user = make("province_officer", tree["A"])
    client = fresh_client(csrf_app)
    page = client.get("/accounts/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    response = client.post("/accounts/login", data={"username": user.username,
                                                    "password": PASSWORD,
                                                    "csrf_token": token})
    assert response.status_code == 303


def test_htmx_requests_send_the_token_in_a_header(csrf_app):
    tree = build_tree()
    user = make("province_officer", tree["A"])
    client = fresh_client(csrf_app)
    page = client.get("/accounts/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    client.post("/accounts/login", data={"username": user.username, "password": PASSWORD,
                                         "csrf_token": token})
    home = client.get("/accounts/me").get_data(as_text=True)
    header_token = re.search(r'hx-headers=\'\{"X-CSRFToken": "([^"]+)"\}\'', home).group(1)
    response = client.post("/accounts/logout", headers={"X-CSRFToken": header_token,
                                                        "HX-Request": "true"})
    assert response.status_code == 303
    assert client.get("/accounts/me").status_code == 302
