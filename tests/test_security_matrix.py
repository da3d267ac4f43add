"""The authorization matrix (ASVS 8.2.1, 8.2.2, 8.3.1): every route in ``app.url_map`` ×
every role (and anonymous) × unit relation (own, child, sibling, parent, other) ×
department (same, other), through plain HTTP requests, against expectations generated from
the role → verb and role → grant tables and tests/authz_routes.toml.

The actor's scope is commune B of the tree in :mod:`tests.security_tree`; the object of a
case sits at B (own), C (child), D (sibling), A (parent) or Y (another province). The actor
belongs to department d1 ("same") or d2 ("other"); indicator groups belong to d1.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import date

import pytest
import sqlalchemy as sa

from dantoc import create_app
from dantoc.accounts.models import Device, Role, RoleGrant, RoleVerb
from dantoc.accounts.passwords import sha256
from dantoc.api import clients
from dantoc.exchange.models import DHIS2, DRAFT, ReceivedFigure, ReceivedReport
from dantoc.extensions import db
from dantoc.indicators.models import CatalogueVersion, Indicator, IndicatorGroup, Period
from tests.conftest import SHARED_SQL, base_config
from tests.security_tree import build_tree, fresh_client, load_route_description, make, sign_in

ANONYMOUS = "anonymous"
RELATIONS = {"own": "B", "child": "C", "sibling": "D", "parent": "A", "other": "Y"}
DEPARTMENTS = {"same": "d1", "other": "d2"}
#: Kinds of object scoped by their unit (an API client: the unit it is bound to; a received
#: report: the unit it is for).
UNIT_KINDS = {"unit", "user", "device", "api_client", "received_report"}
DEPARTMENT_KINDS = {"indicator_group", "indicator"}
USER_KINDS = {"user", "device"}
SKIPPED_METHODS = {"HEAD", "OPTIONS"}
DESCRIPTION = load_route_description()


@dataclass(frozen=True)
class Route:
    endpoint: str
    rule: str
    method: str
    access: str  # public | login | verb | token (API: a bearer token, never a session)
    verb: str | None
    kinds: dict  # url argument → object kind
    placeholders: dict  # url argument → fixed value
    scoped: bool
    object_level: bool


def _access(endpoint: str, view) -> tuple[str, str | None]:
    if getattr(view, "_access", None):
        return view._access, view._required_verb
    if endpoint in DESCRIPTION["public"]:
        return "public", None
    if endpoint in DESCRIPTION["signed_in"]:
        return "login", None
    raise AssertionError(f"route {endpoint!r} declares no access: use @require/@signed_in/"
                         "@public on the view, or list it in tests/authz_routes.toml")


def describe(app) -> list[Route]:
    """Every (route, method) of the app with its declared access and arguments."""
    routes = []
    for rule in app.url_map.iter_rules():
        access, verb = _access(rule.endpoint, app.view_functions[rule.endpoint])
        settings = DESCRIPTION.get("routes", {}).get(rule.endpoint, {})
        kinds, placeholders = {}, {}
        for argument in rule.arguments:
            if argument in DESCRIPTION["objects"]:
                kinds[argument] = DESCRIPTION["objects"][argument]
            elif argument in DESCRIPTION["arguments"]:
                placeholders[argument] = DESCRIPTION["arguments"][argument]
            else:
                raise AssertionError(f"argument {argument!r} of {rule.endpoint} is not in "
                                     "tests/authz_routes.toml [objects] or [arguments]")
        object_level = bool(kinds) and settings.get("object", True)
        for method in sorted((rule.methods or set()) - SKIPPED_METHODS):
            routes.append(Route(rule.endpoint, rule.rule, method, access, verb, kinds,
                                placeholders, settings.get("scoped", True), object_level))
    return routes


def _collect() -> list[Route]:
    app = create_app(base_config("sqlite://"))
    return describe(app)


ROUTES = _collect()


@dataclass
class World:
    tree: object
    actors: dict  # (role, department key) → user
    objects: dict  # (kind, relation) → object id
    verbs: dict  # role → set of verbs
    grants: dict  # role → set of grantable roles


def _indicator_group(department) -> tuple[IndicatorGroup, Indicator]:
    version = CatalogueVersion(code="zz-matrix", name="Matrix", valid_from=date(2025, 7, 1))
    db.session.add(version)
    db.session.flush()
    group = IndicatorGroup(catalogue_version_id=version.id, code="ZZG", name="Nhóm",
                           department_id=department.id)
    db.session.add(group)
    db.session.flush()
    indicator = Indicator(catalogue_version_id=version.id, group_id=group.id, code="ZZI",
                          name="Chỉ tiêu", value_type="integer")
    db.session.add(indicator)
    db.session.flush()
    return group, indicator


def _received_reports(tree, indicator: Indicator) -> dict[str, int]:
    """A DHIS2 draft for the unit of each relation (relation → its id)."""
    client, _token = clients.create_client("zz-matrix-sender")
    period = Period(period_type="year", code="2099", name="Năm 2099",
                    start_date=date(2099, 1, 1), end_date=date(2099, 12, 31),
                    opens_on=date(2099, 1, 1), closes_on=date(2100, 1, 31))
    db.session.add(period)
    db.session.flush()
    found = {}
    for relation, place in RELATIONS.items():
        report = ReceivedReport(origin=DHIS2, state=DRAFT, client_id=client.id,
                                unit_id=tree[place].id, period_id=period.id, provenance={},
                                figures=[ReceivedFigure(indicator_id=indicator.id,
                                                        value_numeric=1)])
        db.session.add(report)
        db.session.flush()
        found[relation] = report.id
    return found


def build_world() -> World:
    tree = build_tree()
    roles = list(db.session.scalars(sa.select(Role.code).order_by(Role.code)))
    verbs = {role: set(db.session.scalars(sa.select(RoleVerb.verb).where(
        RoleVerb.role_code == role))) for role in roles}
    grants = {role: set(db.session.scalars(sa.select(RoleGrant.grantable_code).where(
        RoleGrant.role_code == role))) for role in roles}
    actors = {(role, dept): make(role, tree["B"], tree.departments[code], password=False,
                                 username=f"actor-{role}-{dept}")
              for role in roles for dept, code in DEPARTMENTS.items()}
    group, indicator = _indicator_group(tree.departments["d1"])
    received = _received_reports(tree, indicator)
    objects = {}
    for relation, place in RELATIONS.items():
        target = make("village_head", tree[place], password=False, username=f"target-{relation}")
        device = Device(user_id=target.id, name="phone", token_hash=sha256(
            secrets.token_hex(8)), pin_hash="x", failed_pins=0)
        db.session.add(device)
        db.session.flush()
        api_client, _token = clients.create_client(f"matrix-{relation}", unit=tree[place])
        objects.update({("unit", relation): tree[place].id, ("user", relation): target.id,
                        ("device", relation): device.id, ("api_client", relation): api_client.id,
                        ("indicator_group", relation): group.id,
                        ("indicator", relation): indicator.id,
                        ("received_report", relation): received[relation]})
    db.session.commit()
    return World(tree, actors, objects, verbs, grants)


def expected(route: Route, world: World, role: str, relation: str, department: str) -> bool:
    """Allowed or not, from the route description and the role tables only."""
    if route.access == "public":
        return True
    if role == ANONYMOUS or route.access == "token":  # a session never opens the API
        return False
    if route.access == "login":
        return True
    if route.verb not in world.verbs[role]:
        return False
    if not route.object_level:
        return True
    kinds = set(route.kinds.values())
    if kinds & UNIT_KINDS and route.scoped and relation not in ("own", "child"):
        return False
    if kinds & USER_KINDS and "village_head" not in world.grants[role]:
        return False
    return not (kinds & DEPARTMENT_KINDS and department == "other")


def observed(route: Route, response, anonymous: bool) -> str:
    status = response.status_code
    location = response.headers.get("Location", "")
    if status >= 500:
        return f"error {status}"
    if status == 401 and route.access == "token":
        return "denied"
    if anonymous and (status == 401 or (status in (301, 302, 303)
                                        and location.startswith("/accounts/login"))):
        return "denied"
    if status == 403:
        return "denied"
    if status == 404 and route.object_level:
        return "error 404"
    return "allowed"


def _url(app, route: Route, world: World, relation: str) -> str:
    values = dict(route.placeholders)
    for argument, kind in route.kinds.items():
        values[argument] = world.objects[(kind, relation)]
    with app.test_request_context():
        return app.url_map.bind("localhost").build(route.endpoint, values, method=route.method)


def _request(app, route: Route, world: World, role: str, relation: str, department: str):
    data = DESCRIPTION.get("routes", {}).get(route.endpoint, {}).get("data", {})
    client = fresh_client(app)
    if role != ANONYMOUS:
        sign_in(client, world.actors[(role, department)])
    response = client.open(_url(app, route, world, relation), method=route.method,
                           data=data if route.method != "GET" else None)
    outcome = observed(route, response, role == ANONYMOUS)
    response.close()
    return outcome


def run_cases(app, route: Route, world: World) -> tuple[int, int, list[str]]:
    """Every (role, relation, department) cell of one route; returns (cells, requests,
    mismatches). A route without an object argument sends the same request whatever the
    relation, so it is sent once per (role, department) and answers its five cells."""
    cells, requests, mismatches = 0, 0, []
    for role in [ANONYMOUS, *sorted(world.verbs)]:
        for department in DEPARTMENTS:
            answered = None
            for relation in RELATIONS:
                if answered is None or route.kinds:
                    answered = _request(app, route, world, role, relation, department)
                    requests += 1
                cells += 1
                want = "allowed" if expected(route, world, role, relation, department) else (
                    "denied")
                if answered != want:
                    mismatches.append(f"{role}/{relation}/{department}: expected {want}, "
                                      f"got {answered}")
    return cells, requests, mismatches


def without_fsync(engine) -> None:
    """Commits without waiting for the disk on every new connection of ``engine`` (tests
    of answers, not durability, that send thousands of writing requests)."""
    statement = ("PRAGMA synchronous = OFF" if engine.dialect.name == "sqlite"
                 else "SET synchronous_commit = off")

    def _on_connect(dbapi_connection, _record):
        cursor = dbapi_connection.cursor()
        cursor.execute(statement)
        cursor.close()

    sa.event.listen(engine, "connect", _on_connect)


@pytest.fixture
def matrix_app(database_url):
    """The app with pooled connections and no fsync per commit: the matrix tests
    authorization, not durability, with thousands of requests that mostly write a row."""
    app = create_app(base_config(database_url) | {"SQLALCHEMY_ENGINE_OPTIONS": {
        "pool_size": 2, "max_overflow": 0, **SHARED_SQL}})
    with app.app_context():
        without_fsync(db.engine)
        yield app
        db.session.remove()
        db.engine.dispose()


BLUEPRINTS = sorted({r.endpoint.rpartition(".")[0] or r.endpoint for r in ROUTES})


def _routes_of(blueprint: str) -> list[Route]:
    return [r for r in ROUTES if (r.endpoint.rpartition(".")[0] or r.endpoint) == blueprint]


@pytest.mark.parametrize("blueprint", BLUEPRINTS)
def test_matrix(matrix_app, blueprint):
    """One world per blueprint; every route and method of it, every cell."""
    world = build_world()
    failures = []
    for route in _routes_of(blueprint):
        cells, _requests, mismatches = run_cases(matrix_app, route, world)
        assert cells == (len(world.verbs) + 1) * len(RELATIONS) * len(DEPARTMENTS)
        if DESCRIPTION["known_gaps"].get(route.endpoint):
            if not mismatches:
                failures.append(f"{route.endpoint} is a declared known gap but passes: "
                                "remove it from tests/authz_routes.toml")
        elif mismatches:
            failures.append(f"{route.method} {route.rule}:\n  " + "\n  ".join(mismatches))
    assert not failures, "\n".join(failures)


def test_every_route_is_in_the_matrix(app):
    described = {(r.endpoint, r.method) for r in describe(app)}
    in_map = {(rule.endpoint, method) for rule in app.url_map.iter_rules()
              for method in (rule.methods or set()) - SKIPPED_METHODS}
    assert described == in_map == {(r.endpoint, r.method) for r in ROUTES}


def test_the_matrix_refuses_an_undeclared_route(app):
    app.add_url_rule("/zz-undeclared", "zz_undeclared", lambda: "hello")
    with pytest.raises(AssertionError, match="declares no access"):
        describe(app)


def test_the_matrix_refuses_an_undeclared_argument(app):
    from dantoc.accounts.permissions import require

    app.add_url_rule("/zz/<int:widget_id>", "zz_widget", require("report.view")(lambda widget_id:
                                                                                "x"))
    with pytest.raises(AssertionError, match="widget_id"):
        describe(app)


def test_the_expectations_are_not_all_the_same(app):
    """A guard against a matrix that expects (and so tests) nothing."""
    world = build_world()
    route = next(r for r in ROUTES if r.endpoint == "accounts.user_detail")
    outcomes = {(role, rel, dept): expected(route, world, role, rel, dept)
                for role in [ANONYMOUS, *world.verbs] for rel in RELATIONS
                for dept in DEPARTMENTS}
    allowed = {key for key, ok in outcomes.items() if ok}
    assert allowed == {(role, rel, dept) for role in ("admin", "commune_officer")
                       for rel in ("own", "child") for dept in DEPARTMENTS}


def test_the_department_dimension_reaches_the_figures(matrix_app):
    """The matrix's department cells, for what a page *shows* rather than whether it
    answers: every role that reads reports, of the group's department ("same") or another
    ("other"), is offered the group's indicator by the lookup only when its department owns
    it; a role without a department is offered it too. (Every page of figures filters
    through :mod:`dantoc.indicators.visibility`: the page × scope matrix is
    tests/test_department_scope.py.)"""
    world = build_world()
    indicator_id = world.objects[("indicator", "own")]
    offered = re.compile(rf'<input[^>]*name="indicator"[^>]*value="{indicator_id}"')
    cells = {}
    for role in sorted(world.verbs):
        if "report.view" not in world.verbs[role]:
            continue
        for department in DEPARTMENTS:
            client = fresh_client(matrix_app)
            actor = world.actors[(role, department)]
            sign_in(client, actor)
            response = client.get("/lookup/")
            assert response.status_code == 200, (role, department)
            shown = bool(offered.search(response.get_data(as_text=True)))
            cells[(role, department)] = shown
            assert shown == (department == "same"), (role, department)
    assert {role for role, _dept in cells} >= {"province_officer", "department_officer",
                                                "commune_officer", "admin"}
    for role in ("province_officer", "commune_officer"):  # no department: every group
        client = fresh_client(matrix_app)
        sign_in(client, make(role, world.tree["B"], None, password=False,
                             username=f"actor-{role}-none"))
        assert offered.search(client.get("/lookup/").get_data(as_text=True)), role
