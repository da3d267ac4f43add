"""The API's writes on one instance: ``Idempotency-Key``, ``POST /api/v1/reports`` (a
province's approved report received at the centre) and DHIS2 ``dataValueSets`` export and
import, with their refusals (problem+json, nothing half-written)."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
import sqlalchemy as sa

from dantoc.api.idempotency import IdempotencyKey
from dantoc.audit.models import AuditEvent
from dantoc.exchange import dhis2
from dantoc.exchange.models import Dhis2DataElement, Dhis2OrgUnit, ReceivedFigure, ReceivedReport
from dantoc.exchange.received import payload
from dantoc.extensions import db
from dantoc.indicators.models import Indicator
from dantoc.reports import aggregate
from dantoc.reports.queries import target_of
from tests.api_support import PROBLEM, make_client
from tests.exchange_support import (
    approved_world,
    bound_client,
    element_csv,
    load_mappings,
    numbers,
    org_unit_csv,
)
from tests.test_reports_support import COMMUNE, OTHER_COMMUNE


@pytest.fixture
def world(app):
    return approved_world()


def rows() -> dict[str, int]:
    db.session.expire_all()
    counted = {name: db.session.scalar(sa.select(sa.func.count()).select_from(model))
               for name, model in (("reports", ReceivedReport), ("figures", ReceivedFigure),
                                   ("keys", IdempotencyKey))}
    counted["audit"] = db.session.scalar(sa.select(sa.func.count(AuditEvent.id)).where(
        AuditEvent.action.like("received.%") | AuditEvent.action.like("dhis2.import%")))
    db.session.rollback()
    return counted


def body_of(world, code: str = COMMUNE) -> dict:
    report = world.reports[code]
    body = payload(db.session.get(type(report), report.id))
    db.session.rollback()
    return body


# -- reports up -----------------------------------------------------------------------------

def test_an_approved_report_is_received_read_only_with_figures_and_provenance(client, world):
    reporter, headers = bound_client("12")
    choice_indicator = db.session.scalar(sa.select(Indicator).where(
        Indicator.code == "health_access"))
    choice_indicator.aggregation = "sum"  # villages per answer
    db.session.commit()
    body = body_of(world)
    assert {"indicator": "health_access", "disaggregation": "", "value": {"b": 2},
            "villages": 2} in body["figures"]
    assert body["unit"]["code"] == COMMUNE and body["period"] == {"type": "quarter",
                                                                   "code": "2026-Q4"}
    assert len(body["sources"]) == 2 and body["missing"] == []
    response = client.post("/api/v1/reports", json=body, headers=headers)
    assert response.status_code == 201, response.get_json()
    answer = response.get_json()
    assert answer["state"] == "received" and answer["figures"] == len(body["figures"])
    stored = db.session.get(ReceivedReport, answer["id"])
    report = world.reports[COMMUNE]
    want = numbers(aggregate.compute(target_of(report), report).figures)
    assert numbers(stored.figures) == want and want[("households", "")] == Decimal(18)
    choice = next(f for f in stored.figures if f.indicator.code == "health_access")
    assert choice.value_counts == {"b": 2}
    assert stored.provenance["sources"] == body["sources"]
    assert stored.unit.code == COMMUNE and stored.client_id == reporter.id
    event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action ==
                                                          "received.create"))
    assert event.actor_name == f"api:{reporter.name}" and event.object_id == str(stored.id)

    again = client.post("/api/v1/reports", json=body, headers=headers)  # same version: no-op
    assert again.status_code == 200 and again.get_json()["id"] == answer["id"]
    assert rows()["reports"] == 1 and rows()["audit"] == 1


def test_a_newer_version_replaces_the_figures_and_an_older_one_is_refused(client, world):
    _reporter, headers = bound_client("12")
    body = body_of(world)
    newer = json.loads(json.dumps(body))
    newer["version"] += 2
    households = next(f for f in newer["figures"] if f["indicator"] == "households")
    households["value"] = "20"
    assert client.post("/api/v1/reports", json=body, headers=headers).status_code == 201
    response = client.post("/api/v1/reports", json=newer, headers=headers)
    assert response.status_code == 200
    stored = db.session.get(ReceivedReport, response.get_json()["id"])
    assert numbers(stored.figures)[("households", "")] == Decimal(20)
    assert stored.source_version == body["version"] + 2
    before = rows()
    old = client.post("/api/v1/reports", json=body, headers=headers)
    assert old.status_code == 409 and old.mimetype == PROBLEM
    assert old.get_json()["code"] == "stale" and old.get_json()["current_version"] == (
        body["version"] + 2)
    assert rows() == before


def test_the_unit_is_matched_by_code_and_start_date_never_by_code_alone(client, world):
    _reporter, headers = bound_client("12")
    body = body_of(world)
    body["unit"]["valid_from"] = "2000-01-01"  # the same code, another (unknown) version
    response = client.post("/api/v1/reports", json=body, headers=headers)
    assert response.status_code == 422 and response.mimetype == PROBLEM
    problem = response.get_json()
    assert problem["code"] == "unknown_reference"
    assert problem["unknown"] == [f"unit {COMMUNE} (from 2000-01-01)"]
    assert rows()["reports"] == 0


def test_unknown_references_are_listed_and_nothing_is_written(client, world):
    _reporter, headers = bound_client("12")
    body = body_of(world)
    body["figures"][0]["indicator"] = "no_such_indicator"
    body["period"]["code"] = "2031-Q1"
    body["form_version"] = 9
    response = client.post("/api/v1/reports", json=body, headers=headers)
    assert response.status_code == 422
    assert response.get_json()["unknown"] == [
        f"form {body['form']} version 9", "period 2031-Q1 (quarter)",
        "indicator no_such_indicator"]
    assert rows() == {"reports": 0, "figures": 0, "keys": 0, "audit": 0}


@pytest.mark.parametrize(("unit_code", "role", "status"), [
    (OTHER_COMMUNE, "api_reporter", 403),  # bound to another commune
    (None, "api_reporter", 403),  # bound to no unit
    ("12", "api_client", 403),  # reads only: no api.push
])
def test_a_client_writes_only_for_its_unit_and_with_the_push_verb(client, world, unit_code,
                                                                  role, status):
    _reporter, headers = bound_client(unit_code, role=role)
    response = client.post("/api/v1/reports", json=body_of(world), headers=headers)
    assert response.status_code == status and response.mimetype == PROBLEM
    assert response.get_json()["code"] == "no_authority"
    assert rows()["reports"] == 0


def test_a_browser_session_cannot_push(client, world, login):
    from tests.factories import make_user

    login(make_user("admin"))
    response = client.post("/api/v1/reports", json=body_of(world))
    assert response.status_code == 401 and response.get_json()["code"] == "bad_token"


@pytest.mark.parametrize("change", [
    {"extra": 1},
    {"version": "three"},
    {"unit": {"code": COMMUNE, "valid_from": "2025-7-1"}},
    {"figures": [{"indicator": "households", "disaggregation": "", "value": "1e5",
                  "villages": 1}]},
])
def test_a_malformed_body_is_422_problem_json(client, world, change):
    _reporter, headers = bound_client("12")
    response = client.post("/api/v1/reports", json=body_of(world) | change, headers=headers)
    assert response.status_code == 422 and response.mimetype == PROBLEM
    assert response.get_json()["code"] == "invalid" and response.get_json()["fields"]
    assert rows()["reports"] == 0


def test_a_body_over_the_limit_is_413(app, client, world):
    _reporter, headers = bound_client("12")
    app.config["API_MAX_BODY"] = 400
    assert len(json.dumps(body_of(world))) > 400
    response = client.post("/api/v1/reports", json=body_of(world), headers=headers)
    assert response.status_code == 413 and response.mimetype == PROBLEM
    assert response.get_json()["code"] == "too_large"
    assert rows()["reports"] == 0


def test_a_body_that_is_not_json_is_415(client, world):
    _reporter, headers = bound_client("12")
    response = client.post("/api/v1/reports", data="form=x", headers=headers,
                           content_type="application/x-www-form-urlencoded")
    assert response.status_code == 415 and response.mimetype == PROBLEM
    anonymous = client.post("/api/v1/reports", data="form=x",
                            content_type="application/x-www-form-urlencoded")
    assert anonymous.status_code == 401  # the token first, whatever the body
    assert rows()["reports"] == 0


# -- Idempotency-Key ------------------------------------------------------------------------

def test_a_replay_returns_the_first_answer_and_another_body_is_422(client, world):
    _reporter, headers = bound_client("12")
    keyed = headers | {"Idempotency-Key": "day-1-report-1"}
    body = body_of(world)
    first = client.post("/api/v1/reports", json=body, headers=keyed)
    assert first.status_code == 201 and "Idempotent-Replayed" not in first.headers
    stored = db.session.scalar(sa.select(IdempotencyKey))
    assert stored.status == 201 and json.loads(stored.body) == first.get_json()
    reordered = json.dumps(dict(reversed(list(body.items()))))  # the same JSON, other order
    replay = client.post("/api/v1/reports", data=reordered, headers=keyed,
                         content_type="application/json")
    assert replay.status_code == 201 and replay.headers["Idempotent-Replayed"] == "true"
    assert replay.get_json() == first.get_json()
    before = rows()
    assert before == {"reports": 1, "figures": len(body["figures"]), "keys": 1, "audit": 1}

    other = body_of(world, OTHER_COMMUNE)
    reused = client.post("/api/v1/reports", json=other, headers=keyed)
    assert reused.status_code == 422 and reused.mimetype == PROBLEM
    assert reused.get_json()["code"] == "idempotency_key_reused"
    assert rows() == before  # the other commune's report was not stored


def test_keys_are_per_client(client, world):
    _one, one = bound_client("12")
    _two, two = bound_client("12")
    key = {"Idempotency-Key": "same-key"}
    assert client.post("/api/v1/reports", json=body_of(world), headers=one | key
                       ).status_code == 201
    response = client.post("/api/v1/reports", json=body_of(world, OTHER_COMMUNE),
                           headers=two | key)
    assert response.status_code == 201 and "Idempotent-Replayed" not in response.headers
    assert rows()["reports"] == 2 and rows()["keys"] == 2


def test_a_refused_request_stores_no_key(client, world):
    _reporter, headers = bound_client("12")
    keyed = headers | {"Idempotency-Key": "try-again"}
    body = body_of(world)
    broken = body | {"form_version": 9}
    assert client.post("/api/v1/reports", json=broken, headers=keyed).status_code == 422
    assert rows()["keys"] == 0
    assert client.post("/api/v1/reports", json=body, headers=keyed).status_code == 201


@pytest.mark.parametrize("key", ["", "with space", "x" * 201, "ključ"])
def test_a_malformed_key_is_refused(client, world, key):
    _reporter, headers = bound_client("12")
    response = client.post("/api/v1/reports", json=body_of(world),
                           headers=headers | {"Idempotency-Key": key})
    assert response.status_code in (400, 422) and response.mimetype == PROBLEM
    assert rows()["reports"] == 0


# -- DHIS2 ----------------------------------------------------------------------------------

@pytest.mark.parametrize(("dhis2_code", "ours"), [
    ("2026", ("year", "2026")), ("2026Q4", ("quarter", "2026-Q4")),
    ("2026S1", ("half_year", "2026-H1")), ("202612", ("month", "2026-12")),
    ("2026W1", None), ("2026-Q4", None), ("202613", None), ("26Q4", None)])
def test_periods_in_dhis2_format(dhis2_code, ours):
    assert dhis2.from_dhis2(dhis2_code) == ours


def test_export_gives_the_mapped_approved_figures(client, world):
    load_mappings(world.world.version.form.catalogue_version.code)
    headers = make_client()[1]  # an unbound reader
    response = client.get("/api/v1/dhis2/dataValueSets?period=2026Q4&orgUnit=OU" + COMMUNE,
                          headers=headers)
    assert response.status_code == 200, response.get_json()
    document = response.get_json()
    assert document["period"] == "2026Q4" and document["orgUnit"] == "OU" + COMMUNE
    values = {(v["dataElement"], v["categoryOptionCombo"]): v["value"]
              for v in document["dataValues"]}
    # HERE: households 10 + 8, poor 1 + 2, Thái women 2 + 1, Kinh men 5 + 7
    assert values == {("deHouseho01", dhis2.DEFAULT_COC): "18",
                      ("dePoorHou01", dhis2.DEFAULT_COC): "3",
                      ("dePopulat01", "cocThaiF001"): "3",
                      ("dePopulat01", "cocKinhM001"): "12"}
    assert all(v["period"] == "2026Q4" and v["orgUnit"] == "OU" + COMMUNE
               for v in document["dataValues"])


@pytest.mark.parametrize(("query", "status", "code"), [
    ("period=2026-Q4&orgUnit=OU03388", 422, "invalid"),  # not DHIS2's format
    ("period=2026Q4&orgUnit=NOPE", 422, "unknown_reference"),
    ("period=2030Q1&orgUnit=OU03388", 422, "unknown_reference"),
    ("period=2026Q4", 422, "invalid"),
    ("period=2026Q4&orgUnit=OU03388&dataSet=x", 422, "invalid"),
])
def test_export_refusals(client, world, query, status, code):
    load_mappings(world.world.version.form.catalogue_version.code)
    response = client.get(f"/api/v1/dhis2/dataValueSets?{query}", headers=make_client()[1])
    assert response.status_code == status and response.mimetype == PROBLEM
    assert response.get_json()["code"] == code


def test_import_makes_draft_reports_for_review_and_a_replay_does_not_double(client, runner,
                                                                            world):
    load_mappings(world.world.version.form.catalogue_version.code)
    _reporter, headers = bound_client("12")
    document = {"dataSet": "dsDanToc001", "period": "2026Q4", "orgUnit": "OU" + COMMUNE,
                "dataValues": [
                    {"dataElement": "deHouseho01", "value": "21"},
                    {"dataElement": "dePopulat01", "categoryOptionCombo": "cocThaiF001",
                     "value": 4},
                    {"dataElement": "deHouseho01", "orgUnit": "OU" + OTHER_COMMUNE,
                     "value": "50.5"}]}
    keyed = headers | {"Idempotency-Key": "import-1"}
    response = client.post("/api/v1/dhis2/dataValueSets", json=document, headers=keyed)
    assert response.status_code == 201, response.get_json()
    summary = response.get_json()
    assert summary["status"] == "SUCCESS" and summary["importCount"]["imported"] == 3
    assert [(d["orgUnit"], d["values"]) for d in summary["drafts"]] == [
        ("OU" + COMMUNE, 2), ("OU" + OTHER_COMMUNE, 1)]
    drafts = list(db.session.scalars(sa.select(ReceivedReport).order_by(ReceivedReport.id)))
    assert [d.state for d in drafts] == ["draft", "draft"]  # never approved
    assert numbers(drafts[0].figures) == {("households", ""): Decimal(21), (
        "population", "ethnic_group=03;sex=female"): Decimal(4)}
    assert numbers(drafts[1].figures) == {("households", ""): Decimal("50.5")}
    assert drafts[0].provenance["dataSet"] == "dsDanToc001"
    replay = client.post("/api/v1/dhis2/dataValueSets", json=document, headers=keyed)
    assert replay.status_code == 201 and replay.headers["Idempotent-Replayed"] == "true"
    assert rows()["reports"] == 2
    listed = runner.invoke(args=["dhis2", "drafts"]).output.splitlines()
    assert len(listed) == 2 and listed[1].startswith(f"#{drafts[0].id}")
    assert f"{COMMUNE} (from 2025-07-01) 2026-Q4" in listed[1] and "2 values" in listed[1]


@pytest.mark.parametrize(("value", "code", "member"), [
    ({"dataElement": "deUnknown01", "value": "1"}, "unknown_data_element", "unknown"),
    ({"dataElement": "deHouseho01", "categoryOptionCombo": "cocOther001", "value": "1"},
     "unknown_data_element", "unknown"),
    ({"dataElement": "deHouseho01", "period": "2026-Q4", "value": "1"}, "invalid", "fields"),
    ({"dataElement": "deHouseho01", "period": "2031Q1", "value": "1"}, "unknown_reference",
     "unknown"),
    ({"dataElement": "deHouseho01", "orgUnit": "OUnowhere", "value": "1"},
     "unknown_reference", "unknown"),
    ({"dataElement": "deHouseho01", "value": "many"}, "invalid", "fields"),
    ({"dataElement": "deHouseho01", "value": "1", "colour": "red"}, "invalid", "fields"),
    ({"dataElement": "dePoorHou01", "value": "1"}, "invalid", "fields"),  # twice: see below
])
def test_a_bad_value_refuses_the_whole_import(client, world, value, code, member):
    load_mappings(world.world.version.form.catalogue_version.code)
    _reporter, headers = bound_client("12")
    values = [{"dataElement": "dePoorHou01", "value": "2"}, value]
    response = client.post("/api/v1/dhis2/dataValueSets", headers=headers, json={
        "period": "2026Q4", "orgUnit": "OU" + COMMUNE, "dataValues": values})
    assert response.status_code == 422 and response.mimetype == PROBLEM
    assert response.get_json()["code"] == code and response.get_json()[member]
    assert rows() == {"reports": 0, "figures": 0, "keys": 0, "audit": 0}


def test_an_import_for_a_unit_outside_the_client_is_403(client, world):
    load_mappings(world.world.version.form.catalogue_version.code)
    _reporter, headers = bound_client(OTHER_COMMUNE)
    response = client.post("/api/v1/dhis2/dataValueSets", headers=headers, json={
        "period": "2026Q4", "orgUnit": "OU" + COMMUNE,
        "dataValues": [{"dataElement": "deHouseho01", "value": "1"}]})
    assert response.status_code == 403 and response.get_json()["code"] == "no_authority"
    assert rows()["reports"] == 0


def test_the_mapping_loads_from_csv_all_lines_or_none(runner, world, tmp_path):
    catalogue = world.world.version.form.catalogue_version.code
    good = tmp_path / "elements.csv"
    good.write_text(element_csv(catalogue), encoding="utf-8")
    units = tmp_path / "units.csv"
    units.write_text(org_unit_csv(), encoding="utf-8")
    result = runner.invoke(args=["dhis2", "load-mapping", str(good)])
    assert result.exit_code == 0 and "4 added, 0 changed, 0 unchanged" in result.output
    result = runner.invoke(args=["dhis2", "load-mapping", str(units)])
    assert result.exit_code == 0 and "2 added" in result.output
    again = runner.invoke(args=["dhis2", "load-mapping", str(good)])
    assert "0 added, 0 changed, 4 unchanged" in again.output

    moved = element_csv(catalogue).replace("deHouseho01", "deHouseho02")
    bad = moved + f"{catalogue},nope,,deNope00001,\n{catalogue},households,,deTwice0001,\n"
    (tmp_path / "bad.csv").write_text(bad, encoding="utf-8")
    result = runner.invoke(args=["dhis2", "load-mapping", str(tmp_path / "bad.csv")])
    assert result.exit_code == 1 and "nothing loaded" in result.output
    assert "line 6: no indicator 'nope'" in result.output and "line 7" in result.output
    assert db.session.scalar(sa.select(sa.func.count(Dhis2DataElement.id))) == 4
    assert db.session.scalar(sa.select(Dhis2DataElement.data_element).where(
        Dhis2DataElement.disaggregation == "").order_by(Dhis2DataElement.id)) == "deHouseho01"
    (tmp_path / "moved.csv").write_text(moved, encoding="utf-8")
    result = runner.invoke(args=["dhis2", "load-mapping", str(tmp_path / "moved.csv")])
    assert "0 added, 1 changed, 3 unchanged" in result.output
    assert db.session.scalar(sa.select(sa.func.count(Dhis2OrgUnit.id))) == 2

    export = runner.invoke(args=["dhis2", "export", "--period", "2026Q4", "--org-unit",
                                 "OU" + COMMUNE])
    assert export.exit_code == 0, export.output
    assert {"dataElement": "deHouseho02", "period": "2026Q4", "orgUnit": "OU" + COMMUNE,
            "categoryOptionCombo": dhis2.DEFAULT_COC, "value": "18"} in json.loads(
        export.output)["dataValues"]
    wrong = runner.invoke(args=["dhis2", "export", "--period", "2026-Q4", "--org-unit", "x"])
    assert wrong.exit_code == 2


def test_the_write_routes_are_in_the_openapi_document(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    push = spec["paths"]["/api/v1/reports"]["post"]
    assert push["security"] == [{"bearer": []}]
    assert {"200", "201", "401", "403", "409", "413", "422", "429"} <= set(push["responses"])
    assert list(push["responses"]["422"]["content"]) == [PROBLEM]
    assert any(p["name"] == "Idempotency-Key" and p["in"] == "header"
               for p in push["parameters"])
    sets = spec["paths"]["/api/v1/dhis2/dataValueSets"]
    assert set(sets) == {"get", "post"}
    assert {p["name"] for p in sets["get"]["parameters"]} == {"period", "orgUnit"}
    assert "DataValueSetIn" in spec["components"]["schemas"]


def test_the_answers_match_their_documented_schemas(client, world):
    from jsonschema import Draft202012Validator
    from referencing import Registry, Resource

    spec = client.get("/api/v1/openapi.json").get_json()
    registry = Registry().with_resource("urn:spec", Resource.from_contents(
        {"$schema": "https://json-schema.org/draft/2020-12/schema", **spec}))

    def check(path: str, method: str, status: int, body: dict) -> None:
        media = spec["paths"][path][method]["responses"][str(status)]["content"]
        schema = {"$ref": "urn:spec" + next(iter(media.values()))["schema"]["$ref"]}
        Draft202012Validator(schema, registry=registry).validate(body)

    load_mappings(world.world.version.form.catalogue_version.code)
    _reporter, headers = bound_client("12")
    pushed = client.post("/api/v1/reports", json=body_of(world), headers=headers)
    check("/api/v1/reports", "post", 201, pushed.get_json())
    exported = client.get(f"/api/v1/dhis2/dataValueSets?period=2026Q4&orgUnit=OU{COMMUNE}",
                          headers=headers)
    check("/api/v1/dhis2/dataValueSets", "get", 200, exported.get_json())
    imported = client.post("/api/v1/dhis2/dataValueSets", json=exported.get_json(),
                           headers=headers)
    check("/api/v1/dhis2/dataValueSets", "post", 201, imported.get_json())
    refused = client.post("/api/v1/dhis2/dataValueSets", json={"dataValues": []},
                          headers=headers)
    check("/api/v1/dhis2/dataValueSets", "post", 422, refused.get_json())
