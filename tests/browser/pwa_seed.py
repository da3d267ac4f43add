"""Extra data for the offline browser tests: enough open form targets for the demo village
head, and a second village head of the same village (the shared phone).

The server accepts one submission per form, unit and period, so every submission of a long
randomized run needs its own (form, period). Realistic enough: small monthly village
reports (two numeric indicators of the sample catalogue), each month still open for
late reports. Run after ``seed-demo`` against the test server's database:

    python -m tests.browser.pwa_seed TARGETS   (with DANTOC_DATABASE_URL set)

It prints one JSON object: the village id, the targets and the second village head.
"""

from __future__ import annotations

import json
import math
import sys
from datetime import timedelta

import sqlalchemy as sa

#: Monthly test forms; targets = forms × months.
FORMS = ("LC-TEST-THANG-1", "LC-TEST-THANG-2", "LC-TEST-THANG-3")
INDICATORS = ("households", "security_incidents")
SECOND_HEAD = ("demo-thon-2", "demo-truongban-hai-2026", "Trưởng bản thứ hai (mẫu)")


def _monthly_form(code: str, number: int):
    from dantoc.catalogs.models import AdminLevel
    from dantoc.demo.catalogue import DEMO_CATALOGUE
    from dantoc.extensions import db
    from dantoc.indicators import services
    from dantoc.indicators.models import CatalogueVersion, Indicator

    catalogue = db.session.scalar(sa.select(CatalogueVersion).where(
        CatalogueVersion.code == DEMO_CATALOGUE))
    level = db.session.scalar(sa.select(AdminLevel).where(AdminLevel.code == "village"))
    form = services.create_form(code=code, kind="phieu", name=f"Báo cáo tháng thử {number} (mẫu)",
                                catalogue_version=catalogue, fill_level=level,
                                period_type="month", legal_basis="Dữ liệu kiểm thử.")
    version = form.versions[0]
    section = services.add_section(version, "Số liệu tháng")
    for indicator_code in INDICATORS:
        services.add_item(section, db.session.scalar(sa.select(Indicator).where(
            Indicator.catalogue_version_id == catalogue.id, Indicator.code == indicator_code)))
    services.publish(version)
    return form


def _open_months(count: int) -> list[str]:
    """``count`` month periods ending with the current month, all open for reporting now."""
    from dantoc.clock import today
    from dantoc.indicators import services

    day = today()
    year, month = day.year, day.month
    codes = []
    for _ in range(count):
        code = services.standard_code("month", year, month)
        services.create_period(period_type="month", code=code, opens_on=day - timedelta(days=30),
                               closes_on=day + timedelta(days=60))
        codes.append(code)
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    return codes


def seed(targets: int) -> dict:
    """Create the forms, periods and second village head (flushed); describe them."""
    from dantoc.accounts import services as accounts
    from dantoc.accounts.models import User
    from dantoc.demo.accounts import ACCOUNTS
    from dantoc.extensions import db

    head = db.session.scalar(sa.select(User).where(
        User.username == ACCOUNTS["village_head"][0]))
    forms = [_monthly_form(code, number) for number, code in enumerate(FORMS, start=1)]
    months = _open_months(math.ceil(targets / len(forms)))
    username, password, full_name = SECOND_HEAD
    second = accounts.create_user(username, full_name, "village_head", password=password,
                                  unit_id=head.unit_id)
    return {"unit_id": head.unit_id, "head_id": head.id, "second_head_id": second.id,
            "second_head": [username, password],
            "targets": [[f.code, m] for m in months for f in forms],
            "form_codes": list(FORMS)}


def main() -> None:
    from dantoc import create_app
    from dantoc.extensions import db

    app = create_app()
    with app.app_context():
        described = seed(int(sys.argv[1]))
        db.session.commit()
    print(json.dumps(described))


if __name__ == "__main__":
    main()
