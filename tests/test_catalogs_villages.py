"""Real village lists (issue #14 item 5): villages with their commune, validity dates and
where a closed village went, imported through the catalog importer as lineage."""

from __future__ import annotations

from datetime import date

import pytest
import sqlalchemy as sa

from dantoc.catalogs import queries
from dantoc.catalogs.importer import ImportRefused
from dantoc.catalogs.models import UnitLineage
from dantoc.extensions import db
from tests.test_catalogs_import import english, run  # noqa: F401  (the "english" fixture)

HEADER = ["code", "name", "unit_type", "parent_code", "valid_from", "valid_to",
          "went_into_code", "lineage", "legal_basis"]
MERGE = [
    HEADER,
    ["03388-101", "Bản Nà Ít", "Bản", "03388", "2025-07-01", "30/06/2026", "03388-110", "",
     "NQ số 01/NQ-HĐND"],
    ["03388-102", "Bản Pá Ít", "Bản", "03388", "2025-07-01", "2026-06-30", "03388-110",
     "sáp nhập", "NQ số 01/NQ-HĐND"],
    ["03388-110", "Bản Nà Pá", "Bản", "03388", "2026-07-01", "", "", "", ""],
    ["03388-103", "Tổ dân phố 3", "Tổ dân phố", "03388", "2025-07-01", "", "", "", ""],
]


def links() -> list[tuple[str, str, str, date, str | None]]:
    rows = db.session.scalars(sa.select(UnitLineage).order_by(UnitLineage.id))
    return [(r.from_unit.code, r.to_unit.code, r.kind, r.effective_date, r.legal_basis)
            for r in rows if "-" in r.from_unit.code]  # not the reference's 2025 merges


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_merged_villages_are_recorded_as_lineage_and_the_same_file_adds_nothing(app, fmt):
    result = run(MERGE, fmt)
    db.session.commit()
    assert result.created == 4
    assert links() == [
        ("03388-101", "03388-110", "merge", date(2026, 7, 1), "NQ số 01/NQ-HĐND"),
        ("03388-102", "03388-110", "merge", date(2026, 7, 1), "NQ số 01/NQ-HĐND"),
    ]
    merged = queries.resolve("03388-110", date(2026, 7, 1))
    assert merged.parent.code == "03388" and merged.level.code == "village"
    assert {u.code for u, _share in queries.successors_on(
        queries.resolve("03388-101", date(2025, 7, 1)), date(2026, 7, 2))} == {"03388-110"}

    again = run(MERGE, fmt)
    db.session.commit()
    assert (again.created, again.updated) == (0, 4)
    assert len(links()) == 2


@pytest.mark.parametrize("row, column, words", [
    (["03388-101", "Bản Nà Ít", "Bản", "03388", "2025-07-01", "2026-06-30", "03388-999", "",
      ""], "went_into_code", "No unit has the code 03388-999"),
    (["03388-101", "Bản Nà Ít", "Bản", "03388", "2025-07-01", "", "03388-110", "", ""],
     "went_into_code", "needs its valid_to date"),
    (["03388-101", "Bản Nà Ít", "Bản", "03388", "2025-07-01", "2026-06-30", "03388-110",
      "nhập khẩu", ""], "lineage", "sáp nhập"),
])
def test_a_bad_link_names_its_line_and_column_and_imports_nothing(app, row, column, words):
    rows = [HEADER, ["03388-110", "Bản Nà Pá", "Bản", "03388", "2026-07-01", "", "", "", ""],
            row]
    with pytest.raises(ImportRefused) as refused:
        run(rows)
    [error] = refused.value.errors
    assert (error.line, error.column) == (3, column) and words in str(error.message)
    assert queries.resolve("03388-110", date(2026, 7, 1)) is None
    assert links() == []
