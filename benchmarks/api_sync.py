#!/usr/bin/env python
"""API pages and a full catalog pull at the scale of a province with 10,000 villages.

Not a test. Builds two fresh SQLite databases through the migrations with the reference
catalogs; adds ``--villages`` sample villages under the current communes of the centre; then

1. times every page of ``GET /api/v1/admin-units?limit=500`` through the test client (no
   network: the figure is the server's work per page), and reports the page size;
2. times ``flask sync pull`` of every list into the second database (the province), with
   the centre's test client as the transport, then a second pass (nothing to change).

Usage: ``.venv/bin/python benchmarks/api_sync.py [--villages 10000]``. Prints Markdown rows
for ``docs/benchmarks.md``.
"""

from __future__ import annotations

import argparse
import gzip
import statistics
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import sqlalchemy as sa  # noqa: E402
from flask.testing import FlaskClient  # noqa: E402

from dantoc import create_app  # noqa: E402
from dantoc.extensions import db  # noqa: E402
from tests.conftest import base_config  # noqa: E402

PEER = "https://centre.example"


def build(path: Path):
    from flask_migrate import upgrade

    from dantoc.accounts.services import seed_roles
    from dantoc.catalogs.reference import load_reference

    app = create_app(base_config(f"sqlite:///{path}"))
    with app.app_context():
        upgrade()
        seed_roles()
        load_reference()
        db.session.commit()
    return app


def add_villages(count: int) -> None:
    from dantoc.catalogs.models import AdminLevel, AdminUnit, UnitType

    level = db.session.scalar(sa.select(AdminLevel).where(AdminLevel.code == "village"))
    kind = db.session.scalar(sa.select(UnitType).where(UnitType.level_id == level.id))
    communes = list(db.session.scalars(sa.select(AdminUnit).join(AdminLevel, AdminUnit.level_id
                                                                 == AdminLevel.id).where(
        AdminLevel.code == "commune", AdminUnit.valid_to.is_(None))))
    start = date(2025, 7, 1)
    for n in range(count):
        commune = communes[n % len(communes)]
        db.session.add(AdminUnit(code=f"V{n:05d}", valid_from=max(start, commune.valid_from),
                                 name=f"Bản mẫu {n}", unit_type_id=kind.id, level_id=level.id,
                                 parent_id=commune.id, is_sample=True))
    db.session.commit()


class Transport:
    def __init__(self, app):
        self.http = FlaskClient(app)

    def get(self, url, headers):
        response = self.http.get(url.removeprefix(PEER), headers=headers)
        return response.status_code, response.get_json(silent=True)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--villages", type=int, default=10_000)
    args = parser.parse_args()
    from dantoc.api.clients import create_client
    from dantoc.sync import pull as sync

    with tempfile.TemporaryDirectory() as tmp:
        centre = build(Path(tmp) / "centre.sqlite3")
        province = build(Path(tmp) / "province.sqlite3")
        with centre.app_context():
            add_villages(args.villages)
            _client, token = create_client("benchmark")
            db.session.commit()
            units = db.session.scalar(sa.text("SELECT count(*) FROM admin_units"))
        http = FlaskClient(centre)
        headers = {"Authorization": f"Bearer {token}"}
        times, sizes, url = [], [], "/api/v1/admin-units?limit=500"
        while url:
            started = time.perf_counter()
            response = http.get(url, headers=headers)
            times.append(time.perf_counter() - started)
            body = response.get_data()
            sizes.append((len(body), len(gzip.compress(body))))
            url = response.get_json()["next"]
        print(f"| `GET /api/v1/admin-units?limit=500`, {units} unit versions | "
              f"{len(times)} pages; median **{statistics.median(times) * 1000:.0f} ms**, "
              f"max {max(times) * 1000:.0f} ms per page; a page "
              f"{statistics.median(s[0] for s in sizes) / 1000:.0f} KB JSON, "
              f"{statistics.median(s[1] for s in sizes) / 1000:.0f} KB gzip |")
        with province.app_context():
            for label in ("first pass", "second pass (nothing to change)"):
                started = time.perf_counter()
                result = sync.pull(PEER, token, Transport(centre), limit=500)
                elapsed = time.perf_counter() - started
                units_counts = result["admin-units"]
                print(f"| `sync pull`, every list, {label} | **{elapsed:.1f} s**; units: "
                      f"{units_counts.added} added, {units_counts.changed} changed, "
                      f"{units_counts.unchanged} unchanged in {units_counts.pages} pages |")


if __name__ == "__main__":
    main()
