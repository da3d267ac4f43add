"""Time the pages that aggregate or list at scale, and show the plans of the lookups.

    flask --app wsgi demo scale --villages 10000        # once per database
    .venv/bin/python benchmarks/pages.py --url sqlite:////path/scale.sqlite3 [--runs 7]
    .venv/bin/python benchmarks/pages.py --url postgresql+psycopg://…/perf10k

In one process, with Flask's test client (no network, no gunicorn): the province report,
the province and a commune's completeness, a commune report, the inboxes of the commune and
province officers (first page, and filtered by period), and the review page (the UUID
lookup the receipt also uses), signed in as the demo accounts. Prints per page the HTTP
status, the statements run, p50 and p95 wall time over ``--runs`` (after one warm-up),
then the plans (``EXPLAIN QUERY PLAN`` on SQLite, ``EXPLAIN ANALYZE`` on PostgreSQL) of
the inbox page and count, and of the UUID lookup.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks import support


def _explain(engine, statement) -> str:
    sql = str(statement.compile(dialect=engine.dialect, compile_kwargs={"literal_binds": True}))
    prefix = "EXPLAIN QUERY PLAN " if engine.dialect.name == "sqlite" else "EXPLAIN ANALYZE "
    with engine.connect() as conn:
        rows = conn.exec_driver_sql(prefix + sql).all()
    if engine.dialect.name == "sqlite":
        return "\n".join(f"  {row[-1]}" for row in rows)
    return "\n".join(f"  {row[0]}" for row in rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", required=True)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--period", help="period code (default: the newest but one)")
    args = parser.parse_args()
    os.environ.update(support.environment(args.url))
    import sqlalchemy as sa

    from dantoc import create_app
    from dantoc.accounts.models import User
    from dantoc.catalogs.models import AdminUnit
    from dantoc.extensions import db
    from dantoc.indicators.models import Form, Period
    from dantoc.review import queries as review
    from dantoc.submissions.models import Submission
    from tests.client import FreshClient
    from tests.test_statement_counts import counting

    app = create_app()
    app.test_client_class = FreshClient  # an empty g per request, as in production
    with app.app_context():
        form = db.session.scalar(sa.select(Form).where(Form.code == support.FORM))
        periods = list(db.session.scalars(sa.select(Period).where(
            Period.period_type == "month").order_by(Period.code)))
        period = next(p for p in periods if p.code == args.period) if args.period \
            else periods[-2]
        province = db.session.scalar(sa.select(User).where(User.username == "demo-tinh")).unit
        commune = db.session.scalar(sa.select(User).where(User.username == "demo-xa")).unit
        villages = db.session.scalar(sa.select(sa.func.count()).select_from(AdminUnit).where(
            AdminUnit.parent_id == commune.id))
        submitted = db.session.scalar(sa.select(Submission).join(AdminUnit).where(
            AdminUnit.parent_id == commune.id, Submission.state == "submitted",
            Submission.period_id == period.id).limit(1))
        total = db.session.scalar(sa.select(sa.func.count()).select_from(Submission))
        cookies = {name: support.session_cookie(app, name) for name in ("demo-tinh", "demo-xa")}
        complete = f"/reports/completeness?form={form.id}&period={period.id}&unit={{}}"
        pages = [
            ("province report", "demo-tinh", f"/reports/{form.code}/{period.code}/{province.id}"),
            ("province completeness", "demo-tinh", complete.format(province.id)),
            ("province inbox", "demo-tinh", "/review/"),
            ("province inbox, one period", "demo-tinh", f"/review/?period={period.id}"),
            ("reports list", "demo-tinh", "/reports/"),
            (f"commune report ({villages} villages)", "demo-xa",
             f"/reports/{form.code}/{period.code}/{commune.id}"),
            ("commune completeness", "demo-xa", complete.format(commune.id)),
            ("commune inbox", "demo-xa", "/review/"),
            ("review page (UUID lookup)", "demo-xa", f"/review/{submitted.client_uuid}"),
        ]
        engine = db.engine
        name = app.config["SESSION_COOKIE_NAME"]
        print(f"{engine.dialect.name}: {total} submissions, period {period.code}, "
              f"load average {os.getloadavg()}")
        print("\n| page | status | statements | p50 ms | p95 ms |\n|---|---|---|---|---|")
        for label, user, url in pages:
            client = app.test_client()
            client.set_cookie(name, cookies[user])
            status = client.get(url).status_code  # warm up
            times = []
            for _ in range(args.runs):
                with counting() as statements:
                    started = time.perf_counter()
                    status = client.get(url).status_code
                    times.append(1000 * (time.perf_counter() - started))
            p95 = sorted(times)[min(len(times) - 1, int(0.95 * len(times)))]
            print(f"| {label} | {status} | {len(statements)} | "
                  f"{statistics.median(times):.0f} | {p95:.0f} |", flush=True)

        officer = db.session.scalar(sa.select(User).where(User.username == "demo-xa"))
        boss = db.session.scalar(sa.select(User).where(User.username == "demo-tinh"))
        with app.test_request_context():
            for title, query in (
                    ("commune inbox, first page", review.inbox(officer).limit(25)),
                    ("province inbox (approved only), first page",
                     review.inbox(boss).limit(25)),
                    ("commune inbox, count", sa.select(sa.func.count()).select_from(
                        review.inbox(officer).order_by(None).subquery())),
                    ("receipt / review lookup by UUID", sa.select(Submission).where(
                        Submission.client_uuid == submitted.client_uuid))):
                print(f"\n{title}:\n{_explain(engine, query)}")


if __name__ == "__main__":
    main()
