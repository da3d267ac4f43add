"""A submit is read and checked without WTForms (``formbuilder.parse``, issue 17: server CPU
per request): for any input, the same messages (in the person's language), the same
decision to refuse, the same values stored and the same raw text kept as the WTForms form
that ``formbuilder.build`` makes, which the pages still show."""

from __future__ import annotations

import random
import uuid

import pytest
from werkzeug.datastructures import MultiDict

from dantoc.i18n.selection import use_locale
from dantoc.submissions import checks, formbuilder
from tests.factories import INDICATORS, make_questionnaire
from tests.test_submissions_formbuilder import MANY_CHOICES, PERCENT

#: What people (and attackers) type, for every kind of field.
TEXTS = ("", "  ", "0", "7", " 12 ", "+4", "-3", "250", "1 000", "12,5", "12.5", "0,25", "1.23456",
         "1e5", "abc", "12a", "99999999999999", "100000000000000", "٣", "1", "2", "a", "b", "c",
         "c0", "c5", "zzz", "Có", "x" * 999, "x" * 1001, "<b>", "2,5,6")


def _both(spec, formdata):
    names = list(formdata.keys())
    grids = formbuilder.layout(spec, names, {})
    wtforms = formbuilder.build(spec, grids, formdata)
    posted = formbuilder.parse(spec, grids, formdata)
    return grids, wtforms, posted


def _outcome(spec, grids, form):
    found = checks.evaluate(spec, grids, form)
    return {
        "messages": {name: [(m.text, m.error) for m in msgs]
                     for name, msgs in found.messages.items()},
        "blocking": found.blocking,
        "cells": [(c.item.name, c.key, c.value, type(c.value))
                  for c in checks.cells(spec, grids, form)],
        "payload": checks.raw_payload(spec, grids, form),
        "identity": form.identity(),
        "verb": form.verb(),
        "errors": {name: list(form[name].errors) for name in form._fields
                   if not name.startswith(("add_", "csrf"))
                   and name not in ("uuid", "base_version", "action")},
    }


#: Valid answers by value type (a form filled with these passes, unless a rule says no).
VALID = {"integer": ("0", "7", "250", " 12 ", "+4"), "decimal": ("12,5", "0,25", "7", "199.5"),
         "percent": ("12,5", "100", "0"), "yes_no": ("1", "0"), "text": ("", "Ghi chú"),
         "choice": ("a", "b", "c", "c0", "c5")}


def _answer(item, rng: random.Random, valid: bool) -> str:
    if not valid or rng.random() < 0.03:
        return rng.choice(TEXTS)
    choices = VALID[item.indicator.value_type]
    if item.indicator.value_type == "choice":
        codes = {c.code for c in item.indicator.choices}
        choices = [c for c in choices if c in codes]
    return rng.choice(choices)


def _random_form(spec, rng: random.Random) -> MultiDict:
    valid = rng.random() < 0.5  # half of the forms are filled as they should be
    data = MultiDict({"uuid": rng.choice([str(uuid.uuid4()), "not-a-uuid", ""]),
                      "base_version": rng.choice(["0", "1", "x", "-1", "99999"]),
                      "action": rng.choice(["submit", "submit", "draft", "submit:x"])})
    for item in spec.items:
        if item.grid:
            pop = item.name
            for row in rng.sample(["03", "08", "09", "01"], rng.randint(int(valid), 3)):
                for col in (0, 1):
                    if valid or rng.random() < 0.9:
                        data[f"{pop}_{row}_{col}"] = _answer(item, rng, valid)
        elif valid or rng.random() < 0.9:
            data[item.name] = _answer(item, rng, valid)
            if rng.random() < 0.05:
                data.add(item.name, rng.choice(TEXTS))  # a value sent twice: the first counts
    return data


@pytest.mark.parametrize("tag", ["vi", "en"])
def test_parse_checks_like_the_wtforms_form_for_any_input(app, tag):
    make_questionnaire(indicators=(*INDICATORS, MANY_CHOICES, PERCENT))
    from dantoc.extensions import db
    from dantoc.indicators.models import FormVersion

    version = db.session.query(FormVersion).one()
    rng = random.Random(17)
    seen = {"blocking": set(), "messages": 0}
    with app.test_request_context(), use_locale(tag):
        spec = formbuilder.load_spec(version)
        for _case in range(400):
            formdata = _random_form(spec, rng)
            grids, wtforms, posted = _both(spec, formdata)
            expected = _outcome(spec, grids, wtforms)
            assert _outcome(spec, grids, posted) == expected, formdata
            seen["blocking"].add(expected["blocking"])
            seen["messages"] += sum(len(m) for m in expected["messages"].values())
    assert seen["blocking"] == {True, False} and seen["messages"] > 400  # it saw both


def test_a_valid_submit_is_parsed_like_the_wtforms_form(entry):
    from dantoc.submissions.formbuilder import load_spec

    formdata = MultiDict({"uuid": str(uuid.uuid4()), "base_version": "0", "action": "submit",
                          **entry.answers()})
    with entry.client.application.test_request_context():
        spec = load_spec(entry.version)
        grids, wtforms, posted = _both(spec, formdata)
        outcome = _outcome(spec, grids, posted)
        assert outcome == _outcome(spec, grids, wtforms)
    assert not outcome["blocking"] and not outcome["messages"]
    assert len(outcome["cells"]) == 9
