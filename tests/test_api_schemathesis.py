"""schemathesis against ``/api/v1/openapi.json``, in process (the Flask app through its WSGI
interface), on a demo-like world: every operation the document lists, with generated valid
and invalid requests, without a token, with the demo (reading) token, and the writes with
an ``api_reporter`` token, then the stateful phase that follows the
document's links from lists to items. Every answer must pass schemathesis's checks: no 5xx,
a documented status, its documented media type and a body that matches its schema
(on both engines).

Bounded and reproducible: a fixed number of examples per operation, derandomized, no
Hypothesis example database. docs/api.md says how to run the same checks over HTTP.
"""

from __future__ import annotations

import time
from pathlib import Path

import hypothesis
import pytest
import schemathesis
import sqlalchemy as sa
from hypothesis import HealthCheck
from schemathesis import GenerationMode

from dantoc.api.models import ApiClient
from dantoc.demo import seed, seed_history
from dantoc.demo.api_client import seed_api_client
from dantoc.documents import services as documents
from dantoc.documents.models import Document
from dantoc.extensions import db
from dantoc.reports.models import UnitReport
from tests.api_support import make_client
from tests.conftest import app_on
from tests.documents_support import make_pdf, use_storage
from tests.factories_submissions import make_questionnaire

ROOT = Path(__file__).resolve().parents[1]
#: Examples per operation, per data mode and per identity (valid data is cheap to find,
#: so a few dozen reach the interesting values: cursors, dates, ids of the seeded rows).
EXAMPLES = 20
#: Steps of the stateful phase: list → item → file chains, a few scenarios.
STATEFUL_EXAMPLES = 15
STATEFUL_STEPS = 6
#: Hypothesis as CI wants it: the same examples on every run (derandomized: a seed from
#: the test's code), no example database (Hypothesis still caches constants in its
#: self-ignored ``.hypothesis/``), no deadline (a loaded machine is slow, not wrong); only
#: the speed health check is off.
SETTINGS = hypothesis.settings(
    max_examples=EXAMPLES, derandomize=True, database=None, deadline=None,
    suppress_health_check=[HealthCheck.too_slow], print_blob=False)
#: schemathesis's default checks are all of its checks that apply to an answer (none is
#: turned off here or in schemathesis.toml); these must be among those run on every answer.
REQUIRED_CHECKS = {"not_a_server_error", "status_code_conformance", "content_type_conformance",
                   "response_headers_conformance", "response_schema_conformance"}
#: schemathesis sends requests' default ``Accept-Encoding`` (gzip, br), and its WSGI
#: transport does not decode what Flask-Compress then sends (a real HTTP client does).
PLAIN = {"Accept-Encoding": "identity"}


@pytest.fixture(scope="module")
def world(databases, tmp_path_factory):
    """The demo (catalogs, units, indicators, questionnaires, sample documents, approved
    history reports, the demo API client bound to the province), a report form (the demo
    has none) and one PDF on the first document, so that every item route answers 200;
    and a writer (``api_reporter`` bound to the province) for the writes.
    No request budget: the test sends thousands of requests a minute with one token
    (test_api_auth.py tests the budget)."""
    url = databases.new()  # one world for both phases: they only read
    with app_on(url, RATELIMIT_ENABLED=False) as app:
        use_storage(app, tmp_path_factory.mktemp("schemathesis"))
        seed()
        seed_history()
        _name, token = seed_api_client()
        province = db.session.scalar(sa.select(ApiClient).where(
            ApiClient.name == "demo-api")).unit
        first = db.session.scalar(sa.select(Document).order_by(Document.id))
        documents.attach_file(first, make_pdf("schemathesis"), "van-ban.pdf")
        make_questionnaire(sections=1).form.kind = "bieu"
        db.session.commit()
        assert db.session.scalar(sa.select(sa.func.count(UnitReport.id)).where(
            UnitReport.state == "approved")) > 0
        _client, writer = make_client("api_reporter", "schemathesis-writer", unit=province)
        yield app, token, writer["Authorization"].removeprefix("Bearer ")
    databases.drop(url)


class Seen:
    """The statuses each operation answered, per identity: the run must have reached the
    seeded rows (200), not only refusals."""

    def __init__(self):
        self.statuses: dict[tuple[str, str], set[int]] = {}
        self.count = 0
        self.checks: set[str] = set()

    def add(self, who: str, label: str, status: int) -> None:
        self.statuses.setdefault((who, label), set()).add(status)
        self.count += 1

    def of(self, who: str, label: str) -> set[int]:
        return self.statuses.get((who, label), set())


def load(app, seen: Seen, token: str | None = None, extra: str = ""):
    """The served document with the repository's schemathesis.toml and, given a token, the
    bearer scheme's credentials (schemathesis then knows them valid: its auth checks probe
    the secured routes without them and with an invalid one)."""
    text = (ROOT / "schemathesis.toml").read_text(encoding="utf-8")
    if token is not None:
        text += f'\n[auth.openapi.bearer]\nbearer = "{token}"\n'
    text += extra
    config = schemathesis.Config.from_str(text, base_dir=str(ROOT))
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app, config=config)

    @schema.hook
    def filter_query(_context, query):
        """Not an object as a query value: the WSGI transport hands it to werkzeug, which
        sends its Python ``repr`` (control characters escaped), a plain text the API then
        rightly takes; over HTTP it never travels like that."""
        return not any(isinstance(value, dict) or (isinstance(value, list) and any(
            isinstance(item, dict | list) for item in value)) for value in (query or {}).values())

    @schema.hook
    def after_validate(_context, _case, _response, results):
        seen.checks.update(result.name for result in results)

    return schema


def stateless(operation, mode, who: str, seen: Seen) -> None:
    """One operation's generated requests in one data mode, every answer checked."""

    @SETTINGS
    @hypothesis.given(case=operation.as_strategy(generation_mode=mode))
    def run(case):
        response = case.call_and_validate(headers=PLAIN)
        seen.add(who, operation.label, response.status_code)
        if mode == GenerationMode.POSITIVE and response.status_code == 400:
            # Valid data is refused only for a cursor this server did not give (no schema
            # can say a signature; schemathesis.toml allows it); never for its characters.
            assert response.json()["code"] == "bad_cursor", case.as_curl_command()

    run()


def test_every_operation_answers_as_documented(world):
    app, token, writer = world
    seen, started = Seen(), time.monotonic()
    labels = set()
    identities = (("anonymous", load(app, seen)), ("token", load(app, seen, token)),
                  ("writer", load(app, seen, writer)))
    for who, schema in identities:
        for result in schema.get_all_operations():
            operation = result.ok()
            labels.add(operation.label)
            if who == "writer" and operation.method.upper() == "GET":
                continue  # the writer's token is for the writes, the reader's reads
            # Invalid data needs something to make invalid: not for a route without input.
            has_input = any(operation.iter_parameters()) or bool(list(operation.body))
            for mode in [GenerationMode.POSITIVE] + [GenerationMode.NEGATIVE] * has_input:
                stateless(operation, mode, who, seen)
    elapsed = time.monotonic() - started
    assert {"GET /api/v1/documents", "GET /api/v1/reports/{report_id}"} <= labels
    # Every read answers with data to the token, but those that name what must exist and
    # cannot be guessed: a form version (the stateful phase follows the links there), a
    # DHIS2 data set and org unit.
    reads = {label for label in labels if label.startswith("GET ")
             and "/versions/" not in label and "/dhis2/" not in label}
    assert {label for label in reads if 200 in seen.of("token", label)} == reads
    writes = {label for label in labels if label.startswith("POST ")}
    for label in writes:
        # The writer's requests get past the token to the references of their body (422:
        # what they name does not exist here); the reader's stop at its verbs (403).
        assert 422 in seen.of("writer", label), label
        assert 403 in seen.of("token", label), label
        assert not any(200 <= s < 300 for s in seen.of("token", label)), label
    for label in labels:
        if label.startswith(("GET /api/v1/reports", "GET /api/v1/dhis2/", "POST ")):
            # 401; or 400/404 for an address no route takes (control characters, an id
            # that is not a number): never data
            statuses = seen.of("anonymous", label)
            assert 401 in statuses and not any(200 <= s < 300 for s in statuses), label
    assert seen.checks >= REQUIRED_CHECKS, seen.checks
    print(f"stateless: {seen.count} requests in {elapsed:.1f} s; checks: {sorted(seen.checks)}")


#: The link targets the stateful phase must reach with a 200 (spec.LINKS). The report link
#: (``/reports`` → ``/reports/{report_id}``) is followed too, but the list's generated filters
#: (form, period, unit code and start date) rarely all match the one seeded report, so its
#: 200 depends on the seed (missed on PostgreSQL with 40 scenarios); the stateless test
#: asserts that the report item answers 200 with the token.
LINKED = {"GET /api/v1/documents/{document_id}",
          "GET /api/v1/documents/{document_id}/files/{file_id}",
          "GET /api/v1/report-forms/{form_code}/versions/{number}",
          "GET /api/v1/questionnaires/{form_code}/versions/{number}"}


def test_stateful_links_answer_as_documented(world):
    app, token, _writer = world
    seen, started = Seen(), time.monotonic()

    # Valid data only: the phase is here to follow the links from an answer to the next
    # request; the stateless phase sends the invalid data.
    schema = load(app, seen, token, '\n[phases.stateful.generation]\nmode = "positive"\n')

    class Machine(schema.as_state_machine()):
        def get_call_kwargs(self, case):
            return {"headers": PLAIN}

        def after_call(self, response, case):
            super().after_call(response, case)
            seen.add("token", case.operation.label, response.status_code)

    Machine.run(settings=hypothesis.settings(
        SETTINGS, max_examples=STATEFUL_EXAMPLES, stateful_step_count=STATEFUL_STEPS))
    assert {label for label in LINKED if 200 in seen.of("token", label)} == LINKED
    assert seen.checks >= REQUIRED_CHECKS, seen.checks
    print(f"stateful: {seen.count} requests in {time.monotonic() - started:.1f} s")
