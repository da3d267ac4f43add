"""The OpenAPI 3.1 document is valid, generated from the code, and complete; the reference
page renders it without any third-party script."""

from __future__ import annotations

import re

import pytest
from openapi_spec_validator import validate
from openapi_spec_validator.validation.exceptions import OpenAPIValidationError

from tests.api_support import make_client
from tests.factories_submissions import make_questionnaire


def _openapi_path(rule: str) -> str:
    return re.sub(r"<(?:[a-z]+(?:\([^)]*\))?:)?([a-z_]+)>", r"{\1}", rule)


def _lists(spec: dict) -> list[tuple[str, dict]]:
    """The paginated lists: GET operations that take a ``cursor``."""
    return [(path, methods) for path, methods in spec["paths"].items()
            if any(p["name"] == "cursor" for p in methods.get("get", {}).get("parameters", ()))]


@pytest.fixture
def spec(client):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200 and response.mimetype == "application/json"
    return response.get_json()


def test_the_document_is_valid_openapi_3_1(spec):
    assert spec["openapi"].startswith("3.1")
    validate(spec)  # raises on any violation of the 3.1 schema


def test_the_validator_does_find_faults(spec):
    """A guard against a validator that accepts anything."""
    broken = dict(spec, paths={"/x": {"get": {"responses": {}}}})
    with pytest.raises(OpenAPIValidationError):
        validate(broken)


def test_every_api_route_is_documented(app, spec):
    routes = {(_openapi_path(rule.rule), method.lower())
              for rule in app.url_map.iter_rules() if rule.rule.startswith("/api/v1/")
              for method in rule.methods - {"HEAD", "OPTIONS"}}
    documented = {(path, method) for path, methods in spec["paths"].items()
                  for method in methods}
    assert routes and routes == documented


def test_token_routes_declare_the_bearer_scheme(app, spec):
    assert spec["components"]["securitySchemes"]["bearer"] == {
        "type": "http", "scheme": "bearer", "description": "The API client's token."}
    for path, methods in spec["paths"].items():
        for operation in methods.values():
            view = app.view_functions[next(
                r.endpoint for r in app.url_map.iter_rules() if _openapi_path(r.rule) == path)]
            if path in ("/api/v1/", "/api/v1/openapi.json"):
                assert "security" not in operation and view._access == "public", path
            elif path.startswith(("/api/v1/reports", "/api/v1/dhis2/")):
                # unpublished figures, and every write: a token
                assert operation["security"] == [{"bearer": []}], path
                assert view._access == "token", path
            else:  # open data: no token needed, one sent must be valid
                assert operation["security"] == [{}, {"bearer": []}], path
                assert view._access == "public", path
            assert operation["summary"] and operation["responses"]


def test_answers_match_their_documented_schemas(client, spec):
    """Each list's first page against its 200 schema, with a JSON Schema 2020-12 validator
    (the dialect of OpenAPI 3.1) that resolves the document's references."""
    from jsonschema import Draft202012Validator
    from referencing import Registry, Resource

    make_questionnaire()
    headers = make_client(role="admin")[1]  # unscoped: it reads every approved report too
    registry = Registry().with_resource("urn:spec", Resource.from_contents(
        {"$schema": "https://json-schema.org/draft/2020-12/schema", **spec}))
    checked = 0
    for path, methods in _lists(spec):
        ref = methods["get"]["responses"]["200"]["content"]["application/json"]["schema"]
        schema = {"$ref": "urn:spec" + ref["$ref"]}
        body = client.get(path + "?limit=3", headers=headers).get_json()
        Draft202012Validator(schema, registry=registry).validate(body)
        checked += 1
    assert checked == 11
    wrong = body | {"items": [{"unexpected": 1}]}
    assert not Draft202012Validator(schema, registry=registry).is_valid(wrong)


def test_the_reference_page_lists_paths_and_schemas_without_cdn(client, spec):
    response = client.get("/api/v1/", headers={"Accept-Language": "en"})
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and response.mimetype == "text/html"
    for path, methods in spec["paths"].items():  # (a long path may break after each slash)
        for method in methods:
            assert f"{method.upper()} {path.replace('/', '/<wbr>')}</code>" in html
    for name in ("AdminUnit", "IndicatorPage", "Problem", "LineageLink"):
        assert f'id="schema-{name}"' in html
    assert "catalogue_version" in html and "next_cursor" in html
    assert not re.search(r'(src|href)="(https?:)?//', html)  # nothing from another origin


def test_refusals_are_documented_as_problem_json(spec):
    lists = [methods["get"] for _path, methods in _lists(spec)]
    for operation in lists:
        assert set(operation["responses"]) == {"200", "400", "401", "403", "422", "429"}
        for status in ("400", "401", "403", "422", "429"):
            assert list(operation["responses"][status]["content"]) == [
                "application/problem+json"]
        assert list(operation["responses"]["200"]["content"]) == ["application/json"]


def test_a_wrong_method_is_405_with_allow(client):
    response = client.post("/api/v1/religions")
    assert response.status_code == 405 and response.mimetype == "application/problem+json"
    assert set(response.headers["Allow"].split(", ")) == {"GET", "HEAD", "OPTIONS"}
