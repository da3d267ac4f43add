"""No 500 for any input: every route in ``app.url_map`` gets a battery of hostile values in
its path, its query string and its form (NUL, 10k characters, NaN, 1e309, 9999-12-31,
a 20-digit number, ``../``, malformed UTF-8, a wrong content type, a 3 MiB body), as a
signed-in admin and as a village head over real objects, and never answers 5xx.

The form fields sent are every field of every form class in ``dantoc`` plus the entry form's
own (``v<indicator id>``), so that a value reaches the services, not only the routing.
"""

from __future__ import annotations

import importlib
import io
import pkgutil
import uuid
from datetime import date
from urllib.parse import quote

import pytest
import sqlalchemy as sa
from werkzeug.test import encode_multipart
from wtforms import Form
from wtforms.fields.core import UnboundField

import dantoc
from dantoc import create_app
from dantoc.catalogs.models import AdminUnit
from dantoc.extensions import db
from dantoc.indicators.models import FormItem, FormSection, IndicatorGroup, ValidationRule
from tests.conftest import SHARED_SQL, base_config
from tests.factories_submissions import (
    make_period,
    make_questionnaire,
    make_village,
    make_village_head,
)
from tests.security_tree import fresh_client, make, sign_in
from tests.test_security_matrix import without_fsync

BIG_NUMBER = "99999999999999999999"
#: name → value sent in every text place (path, query and form values).
HOSTILE = {
    "nul": "a\x00b",
    "control": "a\x1bb\x07",
    "long": "x" * 10_000,
    "nan": "NaN",
    "snan": "sNaN",
    "infinity": "-Infinity",
    "overflow": "1e309",
    "far_date": "9999-12-31",
    "old_date": "0001-01-01",
    "big_number": BIG_NUMBER,
    "int32_overflow": str(2**31),
    "dot_dot": "../../users",
    "thirty_nines": "9" * 30,
}
#: What goes in a path argument (the routing and the boundary see the same text anywhere).
IN_PATH = ("nul", "long", "big_number", "int32_overflow", "dot_dot", "far_date")
MALFORMED_UTF8 = b"\xff\xfe\xc3("
THREE_MIB_FORM = f"action=submit&uuid={uuid.uuid4()}&filler=".encode() + b"x" * 3 * 1024 * 1024
UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}


def _form_field_names() -> set[str]:
    """The field names of every WTForms form in the application."""
    for module in pkgutil.walk_packages(dantoc.__path__, "dantoc."):
        importlib.import_module(module.name)
    names: set[str] = set()
    pending = [Form]
    while pending:
        cls = pending.pop()
        pending.extend(cls.__subclasses__())
        if cls.__module__.startswith("dantoc."):
            names.update(name for name in dir(cls)
                         if isinstance(getattr(cls, name, None), UnboundField))
    return names


class World:
    """Real objects for the routes' arguments, so hostile values reach the views' work."""

    def __init__(self):
        self.village = make_village()
        self.version = make_questionnaire()
        self.period = make_period(period_type=self.version.period_type)
        self.head = make_village_head(self.village)
        self.admin = make("admin", None)
        self.officer = make("province_officer", db.session.get(AdminUnit,
                                                                 self.village.parent_id))
        section = db.session.scalar(sa.select(FormSection).where(
            FormSection.form_version_id == self.version.id))
        item = db.session.scalar(sa.select(FormItem).where(
            FormItem.form_version_id == self.version.id))
        catalogue_id = self.version.form.catalogue_version_id
        group = db.session.scalar(sa.select(IndicatorGroup).where(
            IndicatorGroup.catalogue_version_id == catalogue_id))
        rule = db.session.scalar(sa.select(ValidationRule).where(
            ValidationRule.catalogue_version_id == catalogue_id))
        self.arguments = {
            "unit_id": self.village.id, "user_id": self.head.id, "device_id": 1,
            "version_id": self.version.id, "form_id": self.version.form_id,
            "period_id": self.period.id, "rule_id": rule.id, "item_id": item.id,
            "section_id": section.id, "group_id": group.id,
            "indicator_id": item.indicator_id, "report_id": 1, "direction": "up",
            "kind": "units", "tag": "en", "form_code": self.version.form.code,
            "period_code": self.period.code, "key": str(uuid.uuid4()),
            "filename": "icons/icon.svg",
        }
        self.entry_fields = [f"v{item.indicator_id}" for section in self.version.sections
                             for item in section.items]
        db.session.commit()


def _url(rule, arguments: dict, hostile: str | None = None, which: str | None = None) -> str:
    """The rule's URL with real arguments, or with ``hostile`` in argument ``which``."""
    parts = []
    # an argument with no object of the world (a route added since) gets a placeholder
    values = {name: arguments.get(name, 1) for name in rule.arguments}
    for is_dynamic, text in rule._trace:
        if not is_dynamic:
            parts.append(text)
        elif text == which:
            parts.append(quote(hostile, safe=""))
        else:
            parts.append(quote(str(values[text]), safe="/"))
    return "".join(parts).partition("|")[2]


def _requests(app, world: World, fields: list[str], endpoints: tuple[str, ...] = ("",)):
    """(method, url, keyword arguments for ``client.open``) of the whole battery, for the
    routes whose endpoint starts with one of ``endpoints``. Each hostile value goes once into
    each path argument, once into the query string and once into a POST's fields, the POSTs
    alternating between a multipart form (with a file) and a urlencoded one asking for JSON
    (the offline outbox's way)."""
    query_names = ("q", "page", "level", "on", "version", "group", "year", "unit", "state",
                   "status", "next", "code", "date_from", "date_to", "actor", "action",
                   "lang", "password", "parent", "format", "v")
    for rule in app.url_map.iter_rules():
        if rule.endpoint in ("static", "accounts.logout"):  # signing out ends the walk
            continue
        if not rule.endpoint.startswith(endpoints):
            continue
        methods = sorted(set(rule.methods or ()) - {"HEAD", "OPTIONS"})
        base = _url(rule, world.arguments)
        for number, (label, value) in enumerate(HOSTILE.items()):
            if label in IN_PATH:
                for name in rule.arguments:
                    yield "GET", _url(rule, world.arguments, value, name), {}
            query = "&".join(f"{name}={quote(value, safe='')}" for name in query_names)
            for method in methods:
                if method == "GET":
                    yield method, f"{base}?{query}", {}
                elif number % 2:
                    yield method, f"{base}?{query}", {"data": dict.fromkeys(fields, value),
                                                      "headers": {"Accept": "application/json"}}
                else:
                    data = dict.fromkeys(fields, value)
                    data["file"] = (io.BytesIO(value.encode()), "x.xlsx")
                    # Encoded here, in memory: the test client would spool a body this large
                    # to a temporary file it never closes.
                    boundary, body = encode_multipart(data)
                    yield method, base, {"data": body, "content_type":
                                         f"multipart/form-data; boundary={boundary}"}
        for method in set(methods) & UNSAFE:
            form = "&".join(f"{name}=%FF%FE" for name in fields).encode() + MALFORMED_UTF8
            yield method, base, {"data": form,
                                 "content_type": "application/x-www-form-urlencoded"}
            yield method, base, {"data": b"{not json", "content_type": "application/json"}
            yield method, base, {"data": MALFORMED_UTF8, "content_type": "text/plain"}
            yield method, base, {"data": THREE_MIB_FORM, "headers": {"Accept": "application/json"},
                                 "content_type": "application/x-www-form-urlencoded"}
        yield "GET", base + "?q=%FF%FE&page=%C3%28", {}





@pytest.fixture
def app(database_url):
    """The app with pooled connections and no fsync per commit (as the authorization matrix
    does): the walk is about answers, not durability, and sends thousands of requests."""
    from tests.client import FreshClient

    app = create_app(base_config(database_url) | {"SQLALCHEMY_ENGINE_OPTIONS": {
        "pool_size": 2, "max_overflow": 0, **SHARED_SQL}})
    app.test_client_class = FreshClient
    with app.app_context():
        without_fsync(db.engine)
        yield app
        db.session.remove()
        db.engine.dispose()


def walk(app, client, world: World, fields: list[str],
         endpoints: tuple[str, ...] = ("",)) -> tuple[int, list[str]]:
    """Send the battery; return (requests sent, the ones answered 5xx)."""
    failures, sent = [], 0
    for method, url, options in _requests(app, world, fields, endpoints):
        response = client.open(url, method=method, **options)
        sent += 1
        db.session.rollback()
        if response.status_code >= 500:
            failures.append(f"{method} {url[:120]} {str(options)[:80]} → "
                            f"{response.status_code}")
    return sent, failures


#: The routes walked per role: every route as the admin; as the village head, the ones a
#: village head uses (elsewhere the head is refused before any input is read).
WALKS = {"admin": ("",), "village_head": ("submissions.", "pwa.", "accounts.", "web.",
                                          "i18n.switch")}


@pytest.mark.parametrize("role", sorted(WALKS))
def test_no_route_answers_5xx_to_hostile_input(app, role):
    world = World()
    fields = sorted(_form_field_names() | {"action", "uuid", "base_version", "reason",
                                           "comment", "username", "password", "pin",
                                           *world.entry_fields})
    client = fresh_client(app)
    sign_in(client, world.admin if role == "admin" else world.head)
    db.session.commit()
    sent, failures = walk(app, client, world, fields, WALKS[role])
    assert sent > 300
    assert client.get("/accounts/me").status_code == 200  # still signed in: the walk got in
    assert not failures, f"{len(failures)} of {sent} requests failed:\n" + "\n".join(
        failures[:60])


def test_the_walk_reports_a_500(app):
    """Control: a route that fails on a long value is reported by the walk."""
    from flask import request

    @app.route("/test-only/<name>", methods=["GET", "POST"])
    def fragile(name):
        if len(name) > 1000 or len(request.values.get("q", "")) > 1000:
            raise RuntimeError("a long value reached a narrow column")
        return "ok"

    world = World()
    world.arguments["name"] = "x"
    client = fresh_client(app)
    sign_in(client, world.admin)
    db.session.commit()
    _sent, failures = walk(app, client, world, ["q"], ("fragile",))
    assert [f for f in failures if "/test-only/" in f] and all("/test-only/" in f
                                                               for f in failures)


# The findings of issue 18, one by one ----------------------------------------------------------

def test_nul_in_the_sign_in_form_is_a_clear_400_in_vietnamese(client):
    response = client.post("/accounts/login", data={"username": "a\x00b", "password": "x"})
    assert response.status_code == 400
    assert "ký tự điều khiển" in response.get_data(as_text=True)
    problem = client.post("/accounts/login", data={"username": "a\x00b"},
                          headers={"Accept": "application/json"}).get_json()
    assert (problem["status"], problem["code"]) == (400, "bad_characters")


@pytest.mark.parametrize("query", ["q=%00", "level=%00", "q=a%1Bb", "on=%7F"])
def test_control_characters_in_a_query_are_refused(app, login, query):
    client = login(make("admin", None))
    response = client.get(f"/catalogs/units?{query}")
    assert response.status_code == 400


def test_tab_and_newline_pass_the_boundary(app, login):
    client = login(make("admin", None))
    assert client.get("/catalogs/units?q=a%09b%0Ac%0D").status_code == 200


def test_a_unit_cannot_be_closed_on_9999_12_31_and_an_old_one_still_shows(app, login):
    world = World()
    client = login(world.admin)
    response = client.post(f"/catalogs/units/{world.village.id}/close",
                           data={"valid_to": "9999-12-31"})
    assert response.status_code < 500
    assert "01/01/1900" in response.get_data(as_text=True)  # the range is in the message
    db.session.expire_all()
    assert db.session.get(AdminUnit, world.village.id).valid_to is None
    # A row closed on 9999-12-31 before this boundary existed still shows.
    db.session.get(AdminUnit, world.village.id).valid_to = date(9999, 12, 31)
    db.session.commit()
    assert client.get(f"/catalogs/units/{world.village.id}").status_code == 200


@pytest.mark.parametrize("value", ["NaN", "sNaN", "Infinity", "-inf", "1e30", "9" * 30])
def test_indicator_bounds_refuse_nan_infinity_and_overflow(app, login, value):
    world = World()
    client = login(world.admin)
    indicator_id = world.arguments["indicator_id"]
    response = client.post(f"/indicators/{indicator_id}/edit",
                           data={"min_value": value, "max_value": "5", "code": "X",
                                 "name": "X"})
    assert response.status_code == 200  # the form again, with the field's message
    assert "min_value" in response.get_data(as_text=True)
    db.session.expire_all()
    from dantoc.indicators.models import Indicator

    assert db.session.get(Indicator, indicator_id).min_value is None


def test_ids_and_page_numbers_beyond_what_the_database_stores(app, login):
    client = login(make("admin", None))
    assert client.get(f"/accounts/users/{BIG_NUMBER}").status_code == 404
    assert client.get(f"/catalogs/units/{2**63}").status_code == 404
    assert client.get(f"/catalogs/units/{2**31}").status_code == 404  # PostgreSQL's INTEGER
    assert client.get(f"/catalogs/units/{2**31 - 1}").status_code == 404  # the largest id
    assert client.get(f"/audit/?page={BIG_NUMBER}").status_code == 200
    assert client.get(f"/indicators/rules?version={BIG_NUMBER}").status_code == 200


def test_an_unknown_catalog_kind_is_a_form_error(app, login):
    client = login(make("admin", None))
    response = client.post("/catalogs/import", data={
        "kind": "../../users", "file": (io.BytesIO(b"code,name\n"), "x.csv")},
        content_type="multipart/form-data")
    assert response.status_code == 200
    assert "is-invalid" in response.get_data(as_text=True) or "error" in response.get_data(
        as_text=True)


def test_a_3_mib_entry_post_is_413_not_500(app):
    world = World()
    client = fresh_client(app)
    sign_in(client, world.head)
    db.session.commit()
    url = (f"/entry/{world.village.id}/{world.version.form.code}/{world.period.code}")
    for headers in ({}, {"Accept": "application/json"}):
        response = client.post(url, data=THREE_MIB_FORM, headers=headers,
                               content_type="application/x-www-form-urlencoded")
        assert response.status_code == 413
