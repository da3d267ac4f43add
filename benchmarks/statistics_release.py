#!/usr/bin/env python
"""Public statistics at scale: building a release (the figures of every published commune
report, suppressed) and serving its pages, over many villages.

Not a test. Builds a fresh SQLite database (or ``--database-url``) through the migrations
with the reference catalogs, spreads ``--villages`` sample villages over the current
communes of the province, gives each an approved village report (households, population by
ethnic group × sex, poor households), has every commune report submitted and approved, and
publishes them. Then times, in-process with the test client (no network):

1. ``tables.build()``: every commune's figures from its frozen village versions, suppressed;
2. the release page, cold (a first visit) and revalidated (If-None-Match → 304);
3. one commune's page and the population CSV.

Usage: ``.venv/bin/python benchmarks/statistics_release.py [--villages 10000] [--runs 5]``.
Prints the medians in Markdown, for ``docs/benchmarks.md``.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def _app(url: str):
    from dantoc import create_app
    from tests.conftest import base_config

    config = base_config(url)
    config["TESTING"] = False
    return create_app(config)


def _build(villages: int):
    import sqlalchemy as sa
    from flask_migrate import upgrade

    from dantoc.accounts.services import seed_roles
    from dantoc.catalogs.reference import load_reference
    from dantoc.demo.units import current_communes
    from dantoc.extensions import db
    from dantoc.reports import queries, services
    from dantoc.statistics import services as publication
    from dantoc.submissions.models import Submission
    from tests.factories import make_user
    from tests.factories_submissions import make_period, make_questionnaire, make_village
    from tests.test_reports_support import put, village_values

    upgrade()
    seed_roles()
    load_reference()
    db.session.commit()
    version = make_questionnaire(period_type="quarter")
    period = make_period("2026-Q4", period_type="quarter")
    communes = current_communes()
    province = make_user("province_officer", unit_code="12", username="bench-tinh")
    for n in range(villages):
        commune = communes[n % len(communes)]
        village = make_village(f"{commune.code}-B{n:05d}", commune_code=commune.code)
        small = n % 7  # some small cells
        put(version, village, period, village_values(
            20 + n % 50, Decimal(small), Decimal(30 + n % 40), poor=Decimal(n % 9)))
    print(f"{db.session.scalar(sa.select(sa.func.count()).select_from(Submission))} "
          f"village reports in {len(communes)} communes", file=sys.stderr)
    for commune in communes:
        t = queries.target(version.form.code, period.code, commune.id)
        officer = make_user("commune_officer", unit_code=commune.code,
                            username=f"bench-{commune.code}")
        waiting = {c.unit.id: "x" for c in queries.pending(queries.child_states(t))}
        report = services.submit(t, officer, 0, waiting)
        db.session.commit()
        services.decide(report, "approve", province, report.version)
        publication.publish(report, province, 0)
        db.session.commit()
    return version.form.code, period.code, communes[0].code


def _median_ms(samples: list[float]) -> str:
    return f"{statistics.median(samples) * 1000:.0f} ms"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--villages", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--database-url")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = args.database_url or f"sqlite:///{tmp}/bench.sqlite3"
        app = _app(url)
        with app.app_context():
            started = time.perf_counter()
            form, period, commune = _build(args.villages)
            print(f"built in {time.perf_counter() - started:.0f} s", file=sys.stderr)
        from dantoc.indicators.models import Form, Period
        from dantoc.statistics import tables

        builds, colds, warms, communes, csvs = [], [], [], [], []
        size = 0
        for _ in range(args.runs):
            with app.test_request_context():
                from dantoc.extensions import db

                f = db.session.query(Form).filter_by(code=form).one()
                p = db.session.query(Period).filter_by(code=period).one()
                started = time.perf_counter()
                tables.build(f, p)
                builds.append(time.perf_counter() - started)
            client = app.test_client()
            release = f"/thong-ke/{form}/{period}/"
            started = time.perf_counter()
            first = client.get(release, headers={"Accept-Encoding": "gzip"})
            colds.append(time.perf_counter() - started)
            size = len(first.get_data())
            started = time.perf_counter()
            again = client.get(release, headers={"Accept-Encoding": "gzip",
                                                 "If-None-Match": first.headers["ETag"]})
            warms.append(time.perf_counter() - started)
            assert again.status_code == 304
            started = time.perf_counter()
            client.get(f"{release}xa/{commune}")
            communes.append(time.perf_counter() - started)
            started = time.perf_counter()
            client.get(f"{release}population.csv")
            csvs.append(time.perf_counter() - started)
        print(f"| villages | build | release page (cold) | release 304 | commune page | CSV "
              f"| release page gzip |\n|---|---|---|---|---|---|---|\n"
              f"| {args.villages} | {_median_ms(builds)} | {_median_ms(colds)} | "
              f"{_median_ms(warms)} | {_median_ms(communes)} | {_median_ms(csvs)} | "
              f"{size / 1024:.1f} KB |")


if __name__ == "__main__":
    main()
