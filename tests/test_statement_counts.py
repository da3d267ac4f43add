"""No N+1 (issue 17 item 3, issue 11): the pages of the village head and of the officers run
the same number of SQL statements whatever the number of villages and communes below.

The pages are read once on a small world (3 villages, one commune report approved) and
again after it grew tenfold (33 villages under two communes, both commune reports approved);
every page must run exactly as many statements both times, and few in absolute terms.
Statements are counted with SQLAlchemy's ``before_cursor_execute`` event on the engine.
"""

from __future__ import annotations

import uuid
from contextlib import contextmanager

import sqlalchemy as sa

from dantoc.extensions import db
from tests.factories_submissions import entry_url, make_village, make_village_head
from tests.factories_submissions import typical_answers as answers_of
from tests.security_tree import fresh_client, sign_in
from tests.test_reports_aggregate import submit_and_approve
from tests.test_reports_support import (
    COMMUNE,
    OTHER_COMMUNE,
    make_world,
    officer,
    put,
    report_of,
    village_values,
)

#: The most statements any of these pages may run (session, user, scope, page data).
CEILING = 45
#: The village head's form GET and submit (htmx, the receipt fragment) here: 14 and 34
#: before the form page's statements were merged and a commit stopped expiring what it wrote;
#: 9 and 17 before the target was read in one statement with the definition stamp, the
#: submission and last period's submission, and a new submit stopped looking its target and
#: UUID up again.
VILLAGE_GET, VILLAGE_SUBMIT = 5, 8


@contextmanager
def counting():
    """The SQL statements sent while the block runs."""
    statements: list[str] = []

    def count(_conn, _cursor, statement, _parameters, _context, _executemany):
        # SQLite's BEGIN is ours (dantoc/database.py), PostgreSQL's is psycopg's, unseen:
        # neither is counted, so that both engines count the same statements.
        if not statement.startswith("BEGIN"):
            statements.append(statement)

    sa.event.listen(db.engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", count)


def _count(client, method: str, url: str, expected: int, **kwargs) -> int:
    # A request in production starts with an empty session; here the test's app context
    # would lend the request its session, whose identity map hides (or adds) lazy loads.
    # A new app context gives the request a session of its own, empty. (Expiring the test's
    # session was not enough: its map holds objects weakly, so whether a lazy load found
    # one there depended on when the garbage collector had last run, and a full collection
    # before each page took 0.2-1.5 s in a whole suite's heap.)
    db.session.commit()  # the test's transaction ends: SQLite lets the request write
    with client.application.app_context(), counting() as statements:
        response = client.open(url, method=method, **kwargs)
    assert response.status_code == expected, (url, response.status_code)
    return len(statements)


def _head_client(app, village):
    client = fresh_client(app)
    sign_in(client, make_village_head(village))
    return client


def measure(app, w, commune_officer, province_officer, submitted) -> dict[str, int]:
    """Statements per page, for the pages that grow with the data below them."""
    village = make_village(f"{COMMUNE}-N{uuid.uuid4().hex[:6]}")
    db.session.commit()
    head = _head_client(app, village)
    url = entry_url(village, w.version, w.period)
    complete = (f"/reports/completeness?form={w.version.form_id}&period={w.period.id}"
                "&unit={}")
    assert head.get(url).status_code == 200  # the built form is kept per process: warm it
    households = next(i.indicator_id for s in w.version.sections for i in s.items
                      if i.indicator.code == "households")
    lookup = (f"/lookup/?indicator={households}&period_from={w.period.id}"
              f"&period_to={w.period.id}&unit=0&by=ethnic_group")
    report = report_of(w.version, w.commune, w.period)
    answers = answers_of(w.version)
    review, commune_report, province_report = (f"/review/{submitted.client_uuid}",
                                               w.report_url(w.commune),
                                               w.report_url(w.province))
    bieu = f"/reports/{report.id}/bieu"
    return {
        "form GET": _count(head, "GET", url, 200),
        "submit": _count(head, "POST", url, 200, headers={"HX-Request": "true"},
                         data={"uuid": str(uuid.uuid4()), "base_version": "0",
                               "action": "submit", **answers}),
        "commune inbox": _count(commune_officer, "GET", "/review/", 200),
        "review page": _count(commune_officer, "GET", review, 200),
        "commune report": _count(commune_officer, "GET", commune_report, 200),
        "commune completeness": _count(commune_officer, "GET",
                                       complete.format(w.commune.id), 200),
        "province inbox": _count(province_officer, "GET", "/review/", 200),
        "reports list": _count(province_officer, "GET", "/reports/", 200),
        "province report": _count(province_officer, "GET", province_report, 200),
        "province completeness": _count(province_officer, "GET",
                                        complete.format(w.province.id), 200),
        "lookup": _count(province_officer, "GET", lookup, 200),
        "province dashboard": _count(province_officer, "GET", "/lookup/dashboard", 200),
        "commune dashboard": _count(commune_officer, "GET", "/lookup/dashboard", 200),
        "villages to enter for": _count(commune_officer, "GET", "/entry/for/", 200),
        "commune biểu": _count(province_officer, "GET", bieu, 200),
    }


def test_pages_run_the_same_statements_for_3_and_33_villages(app):
    w = make_world(villages=3, others=1)
    for village in w.villages[:2]:
        put(w.version, village, w.period, village_values(10, 5, 5))
    submitted = put(w.version, w.villages[2], w.period, village_values(7), state="submitted")
    submit_and_approve(app, w, COMMUNE, w.commune, {w.villages[2]: "Chưa duyệt"})
    _c, commune_officer = officer(app, "commune_officer", COMMUNE)
    _p, province_officer = officer(app, "province_officer", "12")
    small = measure(app, w, commune_officer, province_officer, submitted)

    more = [make_village(f"{COMMUNE}-M{n:02d}") for n in range(20)]
    more += [make_village(f"{OTHER_COMMUNE}-M{n:02d}", commune_code=OTHER_COMMUNE)
             for n in range(10)]
    db.session.commit()
    for n, village in enumerate(more):
        put(w.version, village, w.period, village_values(n + 1, n, n),
            state="submitted" if n % 7 == 0 else "approved")
    put(w.version, w.others[0], w.period, village_values(4))
    pending = {v: "Chưa duyệt" for n, v in enumerate(more) if n % 7 == 0
               and v.parent_id != w.commune.id}
    submit_and_approve(app, w, OTHER_COMMUNE, w.others[0].parent, pending)
    large = measure(app, w, commune_officer, province_officer, submitted)

    assert large == small, {k: (small[k], large[k]) for k in small if small[k] != large[k]}
    assert max(large.values()) <= CEILING, large
    # The village head's pages, the most frequent (issue 17): the session check with the
    # role's verbs, the target with the definition stamp, the village's submission and last
    # period's, last period's values, the rows of the commune; a submit adds its writes and
    # the audit row, and re-reads nothing.
    assert large["form GET"] <= VILLAGE_GET and large["submit"] <= VILLAGE_SUBMIT, large
    # The province figures count the villages of both approved commune reports.
    html = province_officer.get(w.report_url(w.province)).get_data(as_text=True)
    assert "2 villages" in html  # through 03388: the two approved at its submission
    assert f"{sum(1 for n in range(20, 30) if n % 7) + 1} villages" in html


def test_the_counter_sees_an_n_plus_one(app):
    """The guard can fail: a loop of one query per village counts more for more villages."""
    w = make_world(villages=4, others=0)

    def loads(villages) -> int:
        with counting() as statements:
            for village in villages:
                db.session.get(type(village), village.id, populate_existing=True)
        return len(statements)

    assert loads(w.villages[:2]) < loads(w.villages)
