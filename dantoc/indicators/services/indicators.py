"""Indicators (chỉ tiêu) with their choices and disaggregations, and validation rules."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from decimal import Decimal

import sqlalchemy as sa
from flask_babel import gettext as _

from ... import clock
from ...audit import services as audit
from ...extensions import db
from ...refusal import FieldError
from ...sync import origin
from .. import formulas
from ..models import (
    AGGREGATIONS,
    DESCRIPTION_FIELDS,
    RULE_SEVERITIES,
    VALUE_TYPES,
    CatalogueVersion,
    Disaggregation,
    FormItem,
    FormStatus,
    FormVersion,
    Indicator,
    IndicatorChoice,
    IndicatorGroup,
    ValidationRule,
    indicator_disaggregations,
)
from ..rules import RuleError, parse, parse_formula
from .common import changed, check_identifier, clean_text, unique_in_version

NUMERIC_TYPES = frozenset({"integer", "decimal", "percent"})
_FIELDS = ("catalogue_version_id", "group_id", "code", "name", "unit_of_measure", "value_type",
           "aggregation", "min_value", "max_value", "required", "help_text", "formula",
           *DESCRIPTION_FIELDS)


def parse_choices(text: str | None) -> list[tuple[str, str]]:
    """Choices written one per line, as ``code | label`` or just ``label``.

    :raise FieldError: on a duplicate or over-long code or label.
    """
    choices: list[tuple[str, str]] = []
    for line in (text or "").splitlines():
        code, sep, label = (part.strip() for part in line.partition("|"))
        label = label if sep else code
        code = _slug(code) if code else ""
        if not label:
            continue
        if not code or len(code) > 30 or len(label) > 200:
            raise FieldError(_("Choice “%(line)s” is not valid.", line=line[:60]), "choices")
        if code in (c for c, _label in choices):
            raise FieldError(_("Choice code “%(code)s” appears twice.", code=code), "choices")
        choices.append((code, label))
    return choices


def _slug(text: str) -> str:
    plain = unicodedata.normalize("NFKD", text.replace("đ", "d").replace("Đ", "D"))
    plain = "".join(c for c in plain if not unicodedata.combining(c)).lower()
    return re.sub(r"[^a-z0-9]+", "_", plain).strip("_")[:30]


def format_choices(indicator: Indicator) -> str:
    """The choices of an indicator in the one-per-line form :func:`parse_choices` reads."""
    return "\n".join(f"{c.code} | {c.label}" for c in indicator.choices)


def _check_kind(value_type: str, aggregation: str, min_value, max_value, choices,
                disaggregations) -> None:
    if value_type not in VALUE_TYPES:
        raise FieldError(_("Not a valid choice."), "value_type")
    if aggregation not in AGGREGATIONS:
        raise FieldError(_("Not a valid choice."), "aggregation")
    if value_type not in NUMERIC_TYPES and aggregation not in ("none", "sum"):
        raise FieldError(_("Only “sum” or “none” fit this value type."), "aggregation")
    if value_type not in NUMERIC_TYPES and (min_value is not None or max_value is not None):
        raise FieldError(_("Only numbers have a minimum and a maximum."), "min_value")
    if min_value is not None and max_value is not None and min_value > max_value:
        raise FieldError(_("The maximum cannot be below the minimum."), "max_value")
    if value_type == "choice" and len(choices) < 2:
        raise FieldError(_("Give at least two choices, one per line."), "choices")
    if value_type != "choice" and choices:
        raise FieldError(_("Only the “choice” value type has choices."), "choices")
    if disaggregations and value_type not in NUMERIC_TYPES:
        raise FieldError(_("Only numbers can be disaggregated."), "disaggregations")


def _formula(group: IndicatorGroup, data: dict, indicator: Indicator | None) -> str | None:
    """The checked formula of a derived indicator (None: an entered one).

    :raise FieldError: a formula the parser refuses, naming an unknown code or a text, or
        making a cycle; a derived indicator that is not a number, is required, or has
        disaggregations.
    """
    expression = clean_text(data.get("formula"), "formula", required=False, max_length=500)
    if not expression:
        return None
    if data["value_type"] not in NUMERIC_TYPES:
        raise FieldError(_("A derived indicator is a number: choose integer, decimal or "
                           "percent."), "value_type")
    if data.get("disaggregations"):
        raise FieldError(_("A derived indicator has no disaggregations."), "disaggregations")
    if data.get("required"):
        raise FieldError(_("A derived indicator is computed, never entered: it cannot be "
                           "required."), "required")
    formulas.check(expression, code=check_identifier(data["code"]),
                   catalogue_version_id=group.catalogue_version_id,
                   current_code=indicator.code if indicator else None)
    return expression


def _values(group: IndicatorGroup | None, data: dict, indicator: Indicator | None = None) -> dict:
    if group is None:
        raise FieldError(_("This field is required."), "group")
    _check_kind(data["value_type"], data["aggregation"], data.get("min_value"),
                data.get("max_value"), data.get("choices", ()), data.get("disaggregations", ()))
    return {
        "catalogue_version_id": group.catalogue_version_id, "group_id": group.id,
        "code": check_identifier(data["code"]), "name": clean_text(data["name"], "name"),
        "unit_of_measure": clean_text(data.get("unit_of_measure"), "unit_of_measure",
                                      required=False, max_length=50),
        "value_type": data["value_type"], "aggregation": data["aggregation"],
        "min_value": _decimal(data.get("min_value")), "max_value": _decimal(data.get("max_value")),
        "required": bool(data.get("required")),
        "help_text": clean_text(data.get("help_text"), "help_text", required=False,
                                max_length=2000),
        **{name: clean_text(data.get(name), name, required=False, max_length=limit or 5000)
           for name, limit in DESCRIPTION_FIELDS.items()},
        "formula": _formula(group, data, indicator),
    }


def _decimal(value) -> Decimal | None:
    return None if value is None else Decimal(str(value))


def create_indicator(*, group: IndicatorGroup, choices: Sequence[tuple[str, str]] = (),
                     disaggregations: Sequence[Disaggregation] = (), **data) -> Indicator:
    """Create an indicator in a group, with its choices and disaggregations (audited).

    :param data: code, name, value_type, aggregation, unit_of_measure, min_value, max_value,
        required, help_text.
    :raise FieldError: on a bad or taken code, min > max, missing choices, … or a code
        outside the local range at a province (:mod:`dantoc.sync.origin`).
    """
    data.setdefault("aggregation", "sum" if data.get("value_type") in NUMERIC_TYPES else "none")
    values = _values(group, {**data, "choices": choices, "disaggregations": disaggregations})
    origin.check_local_code(values["code"])
    unique_in_version(Indicator, values)
    indicator = Indicator(**values)
    db.session.add(indicator)
    db.session.flush()
    _set_choices(indicator, choices)
    _set_disaggregations(indicator, disaggregations)
    audit.record("indicators.indicator.create", indicator, after=_snapshot(indicator))
    return indicator


def update_indicator(indicator: Indicator, *, group: IndicatorGroup,
                     choices: Sequence[tuple[str, str]] = (),
                     disaggregations: Sequence[Disaggregation] = (), **data) -> Indicator:
    """Change an indicator (audited). Its code and value type are fixed once a published
    form uses it, and its code while a rule names it.

    :raise FieldError: as :func:`create_indicator`, or when the group is in another
        catalogue version.
    :raise Refusal: ``national_record`` for an indicator copied from the centre.
    """
    origin.check_editable(indicator)
    if group is not None and group.catalogue_version_id != indicator.catalogue_version_id:
        raise FieldError(_("Choose a group of the same catalogue version."), "group")
    values = _values(group, {**data, "choices": choices, "disaggregations": disaggregations},
                     indicator)
    origin.check_local_code(values["code"], current=indicator.code)
    unique_in_version(Indicator, values, indicator)
    _check_frozen(indicator, values)
    before = _snapshot(indicator)
    for key, value in values.items():
        setattr(indicator, key, value)
    db.session.flush()
    _set_choices(indicator, choices)
    _set_disaggregations(indicator, disaggregations)
    after = _snapshot(indicator)
    if after != before:
        indicator.updated_at = clock.now()  # also when only its choices or breakdowns changed
        db.session.flush()
        audit.record("indicators.indicator.update", indicator, before=before, after=after)
    return indicator


def _check_frozen(indicator: Indicator, values: dict) -> None:
    if values["code"] != indicator.code:
        for rule in rules_of(indicator.catalogue_version_id):
            if indicator.code in _rule_codes(rule):
                raise FieldError(_("Rule “%(rule)s” uses this code.", rule=rule.code), "code")
        for other in _derived_using(indicator):
            raise FieldError(_("The formula of “%(code)s” uses this code.", code=other.code),
                             "code")
    if values["formula"] and indicator.formula is None and db.session.scalar(
            sa.select(FormItem.id).where(FormItem.indicator_id == indicator.id).limit(1)):
        raise FieldError(_("A form asks for this indicator: it cannot become derived."),
                         "formula")
    if values["code"] == indicator.code and values["value_type"] == indicator.value_type:
        return
    published = db.session.scalar(
        sa.select(FormVersion.id).join(FormItem, FormItem.form_version_id == FormVersion.id)
        .where(FormItem.indicator_id == indicator.id, FormVersion.status != FormStatus.DRAFT)
        .limit(1))
    if published is not None:
        field = "code" if values["code"] != indicator.code else "value_type"
        raise FieldError(_("A published form uses this indicator: this cannot change."),
                         field)


def _set_choices(indicator: Indicator, choices: Sequence[tuple[str, str]]) -> None:
    """Update choices in place by code, so that unchanged codes keep their rows."""
    existing = {c.code: c for c in indicator.choices}
    wanted = dict(choices)
    for code, choice in existing.items():
        if code not in wanted:
            indicator.choices.remove(choice)
    db.session.flush()
    for position, (code, label) in enumerate(choices):
        choice = existing.get(code) or IndicatorChoice(code=code)
        choice.label, choice.position = label, position
        if choice not in indicator.choices:
            indicator.choices.append(choice)
    db.session.flush()


def _set_disaggregations(indicator: Indicator, disaggregations: Sequence[Disaggregation]) -> None:
    """Rewrite the ordered disaggregation links (the relationship itself is read-only use)."""
    table = indicator_disaggregations
    db.session.execute(sa.delete(table).where(table.c.indicator_id == indicator.id))
    if disaggregations:
        db.session.execute(sa.insert(table), [
            {"indicator_id": indicator.id, "disaggregation_id": d.id, "position": i}
            for i, d in enumerate(disaggregations)])
    db.session.expire(indicator, ["disaggregations"])


def _snapshot(indicator: Indicator) -> dict:
    return audit.snapshot(indicator, _FIELDS) | {
        "choices": [[c.code, c.label] for c in indicator.choices],
        "disaggregations": [d.code for d in indicator.disaggregations],
    }


def _derived_using(indicator: Indicator) -> list[Indicator]:
    """The other derived indicators of the version whose formula names ``indicator``."""
    known = formulas.known_codes(indicator.catalogue_version_id)
    found = []
    for other in db.session.scalars(sa.select(Indicator).where(
            Indicator.catalogue_version_id == indicator.catalogue_version_id,
            Indicator.formula.is_not(None), Indicator.id != indicator.id)):
        try:
            if indicator.code in parse_formula(other.formula, known).codes:
                found.append(other)
        except RuleError:
            continue
    return found


# --- validation rules ---

def rules_of(catalogue_version_id: int) -> list[ValidationRule]:
    """The rules of a catalogue version, by code."""
    return list(db.session.scalars(sa.select(ValidationRule).where(
        ValidationRule.catalogue_version_id == catalogue_version_id).order_by(
        ValidationRule.code)))


def rule_codes(catalogue_version_id: int) -> dict[str, str]:
    """Indicator code → value type, for every indicator of a catalogue version."""
    rows = db.session.execute(sa.select(Indicator.code, Indicator.value_type).where(
        Indicator.catalogue_version_id == catalogue_version_id))
    return dict(rows.all())


def _rule_codes(rule: ValidationRule) -> tuple[str, ...]:
    try:
        return parse(rule.expression, rule_codes(rule.catalogue_version_id)).codes
    except RuleError:
        return ()


def _rule_values(catalogue_version: CatalogueVersion, code: str, expression: str, message: str,
                 severity: str) -> dict:
    if severity not in RULE_SEVERITIES:
        raise FieldError(_("Not a valid choice."), "severity")
    expression = clean_text(expression, "expression", max_length=2000)
    try:
        parse(expression, rule_codes(catalogue_version.id))
    except RuleError as error:
        raise FieldError(error.message, "expression") from None
    return {"catalogue_version_id": catalogue_version.id,
            "code": check_identifier(code), "expression": expression,
            "message": clean_text(message, "message"), "severity": severity}


def create_rule(*, catalogue_version: CatalogueVersion, code: str, expression: str,
                message: str, severity: str = "error") -> ValidationRule:
    """Create a cross-field rule, checked by the rule parser (audited).

    :raise FieldError: on a taken code or an expression the parser refuses.
    """
    values = _rule_values(catalogue_version, code, expression, message, severity)
    unique_in_version(ValidationRule, values)
    rule = ValidationRule(**values)
    db.session.add(rule)
    db.session.flush()
    audit.record("indicators.rule.create", rule, after=audit.snapshot(rule))
    return rule


def update_rule(rule: ValidationRule, *, code: str, expression: str, message: str,
                severity: str = "error") -> ValidationRule:
    """Change a rule (audited).

    :raise FieldError: as :func:`create_rule`.
    """
    values = _rule_values(db.session.get(CatalogueVersion, rule.catalogue_version_id), code,
                          expression, message, severity)
    unique_in_version(ValidationRule, values, rule)
    return changed("indicators.rule.update", rule, values)
