"""The form built from the indicators: field kinds, last period's values, grid rows."""

from __future__ import annotations

import re
import uuid
from decimal import Decimal

import pytest
import sqlalchemy as sa

from dantoc.extensions import db
from dantoc.submissions import formbuilder, services
from dantoc.submissions.models import Submission
from tests.factories import (
    INDICATORS,
    Setup,
    entry_url,
    make_period,
    post,
)

MANY_CHOICES = ("source", "Nguồn nước", {
    "value_type": "choice", "aggregation": "none",
    "choices": tuple((f"c{i}", f"Lựa chọn {i}") for i in range(6))})
PERCENT = ("coverage", "Tỷ lệ che phủ", {"value_type": "percent"})


@pytest.fixture
def wide(app, login):
    return Setup(login, indicators=(*INDICATORS, MANY_CHOICES, PERCENT))


def test_many_choices_make_a_select_and_percent_has_bounds(wide):
    html = wide.client.get(wide.url).get_data(as_text=True)
    select = re.search(rf'<select[^>]*name="{wide.name("source")}".*?</select>', html, re.S)
    assert select and '<option value="">—</option>' in select.group(0)
    percent = re.search(rf'<input[^>]*name="{wide.name("coverage")}"[^>]*>', html).group(0)
    for attr in ('inputmode="decimal"', 'min="0"', 'max="100"'):
        assert attr in percent


def test_percent_above_100_is_refused_on_the_server(wide):
    response = post(wide.client, wide.url, wide.answers(coverage="120"), key=str(uuid.uuid4()))
    assert "Must be at most 100" in response.get_data(as_text=True)


def _last_year(entry, approve: bool) -> None:
    """The village's 2025 report: Thái and Dao in the grid, 40 households."""
    previous = make_period("2025")
    url = entry_url(entry.village, entry.version, previous)
    pop = entry.name("population")
    answers = {k: v for k, v in entry.answers(households="40").items()
               if not k.startswith(f"{pop}_08")}
    answers.update({f"{pop}_09_0": "11", f"{pop}_09_1": "12"})
    assert post(entry.client, url, answers, key=str(uuid.uuid4())).status_code == 303
    if approve:
        submission = db.session.scalar(sa.select(Submission).where(
            Submission.period_id == previous.id))
        services.transition(submission, "approve", entry.user)
        db.session.commit()


@pytest.mark.parametrize("approve", [True, False], ids=["approved", "submitted"])
def test_last_period_values_are_shown_beside_the_fields(app, login, approve):
    entry = Setup(login)
    _last_year(entry, approve)
    html = entry.client.get(entry.url).get_data(as_text=True)
    households = entry.name("households")
    note = re.search(rf'<small id="{households}-p">(.*?)</small>', html).group(1)
    assert "40" in note
    assert ("not yet approved" in note) is (not approve)
    assert f'aria-describedby="{households}-p {households}-m"' in html
    assert "last: 11" in html  # beside the Dao / male cell


def test_groups_present_last_period_are_listed_first(app, login):
    entry = Setup(login)
    _last_year(entry, approve=True)
    html = entry.client.get(entry.url).get_data(as_text=True)
    pop = entry.name("population")
    rows = re.findall(rf'<th scope="row" id="{pop}-r(\d+)">', html)
    assert rows == ["03", "09"]
    offered = re.search(rf'<select id="add_{pop}".*?</select>', html, re.S).group(0)
    assert 'value="03"' not in offered and 'value="08"' in offered


def test_grid_cells_are_labelled_by_legend_row_and_column(entry):
    pop = entry.name("population")
    html = post(entry.client, entry.url, {**entry.answers(), f"add_{pop}": "09"},
                key=str(uuid.uuid4()), action=f"add:{pop}").get_data(as_text=True)
    cell = re.search(rf'<input[^>]*name="{pop}_09_1"[^>]*>', html).group(0)
    assert f'aria-labelledby="{pop}-l {pop}-r09 {pop}-c1"' in cell
    assert f'id="{pop}-c1">Nữ</th>' in html


def test_grid_key_is_canonical_whatever_the_layout(entry):
    spec = formbuilder.load_spec(entry.version)
    grids = formbuilder.layout(spec, [f"{entry.name('population')}_03_0"], {})
    grid = grids[entry.name("population")]
    assert [code for code, _label in grid.rows] == ["03"]
    assert grid.key("03", 0) == "ethnic_group=03;sex=male"
    assert grid.key("03", 1) == "ethnic_group=03;sex=female"


def test_rule_values_sum_the_grid(entry):
    from werkzeug.datastructures import MultiDict

    from dantoc.submissions import checks

    spec = formbuilder.load_spec(entry.version)
    data = MultiDict({"uuid": str(uuid.uuid4()), "base_version": "0", **entry.answers()})
    grids = formbuilder.layout(spec, list(data.keys()), {})
    form = formbuilder.build(spec, grids, data)
    form.validate()
    values = checks.rule_values(spec, grids, form)
    assert values["population"] == Decimal(80 + 78 + 20 + 19)
    assert values["road_hardened"] is True
