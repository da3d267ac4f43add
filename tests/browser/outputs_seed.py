"""Extra data for the province outputs browser test (tests/browser/test_outputs.py), on the
demo database, for the yearly demo questionnaire and the year 2026, in two communes (one per
screen width the test runs at): a village approved, a second one submitted (its commune
officer approves it in the test), a third that never reported. Each commune has an officer
who can sign in. Run after ``seed-demo`` against the test server's database:

    python -m tests.browser.outputs_seed   (with DANTOC_DATABASE_URL set)

It prints one JSON object: the form and period codes, and per commune its id, its officer's
sign-in, the submitted village's UUID and the values of both villages.
"""

from __future__ import annotations

import json
from decimal import Decimal

import sqlalchemy as sa

FORM, PERIOD = "LC-DEMO-PT-NAM", "2026"
PASSWORD = "outputs-browser-2026"  # a test account on a throwaway database
#: commune code → (households, Thái women, Kinh men, poor households) of its three villages
#: (the third never reports).
COMMUNES = {"03388": ((80, 30, 25, 10), (45, 12, 9, 7)),
            "03637": ((120, 41, 33, 20), (64, 17, 15, 9))}


def _values(households: int, thai_women: int, kinh_men: int, poor: int) -> dict:
    return {"households": Decimal(households), "poor_households": Decimal(poor),
            "population|ethnic_group=03;sex=female": Decimal(thai_women),
            "population|ethnic_group=01;sex=male": Decimal(kinh_men)}


def seed() -> dict:
    from dantoc.accounts import services as accounts
    from dantoc.extensions import db
    from dantoc.indicators.models import Form, Period
    from tests.factories import make_village
    from tests.test_reports_support import put

    form = db.session.scalar(sa.select(Form).where(Form.code == FORM))
    version = form.versions[-1]
    period = db.session.scalar(sa.select(Period).where(Period.period_type == "year",
                                                       Period.code == PERIOD))
    out = {"form": FORM, "period": PERIOD, "communes": {}}
    for code, (approved, waiting) in COMMUNES.items():
        villages = [make_village(f"{code}-R{n}", commune_code=code) for n in (1, 2, 3)]
        put(version, villages[0], period, _values(*approved))
        submitted = put(version, villages[1], period, _values(*waiting), state="submitted")
        commune = villages[0].parent
        username = f"outputs-xa-{code}"
        accounts.create_user(username, f"Cán bộ xã {code} (thử)", "commune_officer",
                             password=PASSWORD, unit_id=commune.id)
        db.session.commit()
        out["communes"][code] = {
            "id": commune.id, "name": commune.name, "username": username,
            "password": PASSWORD, "submitted": str(submitted.client_uuid),
            "villages": [v.name for v in villages], "approved": approved,
            "waiting": waiting}
    return out


if __name__ == "__main__":
    from dantoc import create_app

    with create_app().app_context():
        print(json.dumps(seed()))
