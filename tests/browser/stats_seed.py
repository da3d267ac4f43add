"""Extra data for the statistics browser test: a small quarterly questionnaire whose
2026-Q4 reports of two communes are approved and published, with a commune whose Thái women
number 3 (shown as "<5"). Run after ``seed-demo`` against the test server's database:

    python -m tests.browser.stats_seed   (with DANTOC_DATABASE_URL set)

It prints one JSON object: the form and period codes and the small commune's code.
"""

from __future__ import annotations

import json

import sqlalchemy as sa


def seed() -> dict:
    from dantoc.extensions import db
    from dantoc.indicators.models import Period
    from dantoc.reports import queries, services
    from dantoc.statistics import services as publication
    from tests.factories import make_user
    from tests.factories_submissions import make_period, make_questionnaire, make_village
    from tests.test_reports_support import COMMUNE, OTHER_COMMUNE, put, village_values
    from tests.test_statistics_support import HERE, THERE

    version = make_questionnaire(period_type="quarter")
    period = db.session.scalar(sa.select(Period).where(Period.code == "2026-Q4")) or (
        make_period("2026-Q4", period_type="quarter"))
    province = make_user("province_officer", unit_code="12", username="stats-tinh")
    for code, rows in ((COMMUNE, HERE), (OTHER_COMMUNE, THERE)):
        villages = [make_village(f"{code}-S{i}", commune_code=code) for i in range(len(rows))]
        for village, (households, kinh_men, thai_women, poor) in zip(villages, rows,
                                                                     strict=True):
            put(version, village, period,
                village_values(households, kinh_men, thai_women, poor=poor))
        commune = villages[0].parent
        t = queries.target(version.form.code, period.code, commune.id)
        officer = make_user("commune_officer", unit_code=code, username=f"stats-xa-{code}")
        waiting = {c.unit.id: "Chưa báo cáo (mẫu)"
                   for c in queries.pending(queries.child_states(t))}
        report = services.submit(t, officer, 0, waiting)
        db.session.commit()
        services.decide(report, "approve", province, report.version)
        publication.publish(report, province, 0)
        db.session.commit()
    return {"form": version.form.code, "period": period.code, "commune": COMMUNE}


if __name__ == "__main__":
    from dantoc import create_app

    with create_app().app_context():
        print(json.dumps(seed()))
