"""Build the entry form of a form version at run time (Indico ``make_survey_form`` idea).

:func:`load_spec` gives the form definition (built once per process for a published
version, :mod:`.spec_cache`): sections, items, indicators, their disaggregations and the
cross-field rules that apply. :func:`layout` decides the rows of each disaggregation grid
(the ethnic groups present in the village first, plus any added), and :func:`build`
assembles a WTForms class with one field per indicator or per grid cell. Field names are
short (``v12``, ``v12_03_1``) to keep the submit body small.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from decimal import Decimal
from itertools import product

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask_babel import lazy_gettext as _l
from wtforms import Field, SelectField

from ..catalogs.models import EthnicGroup, Religion
from ..database import READ_ONLY
from ..extensions import db
from ..i18n.content import lookup, tr
from ..i18n.selection import current_tag
from ..indicators import rules as rules_module
from ..indicators.models import (
    Disaggregation,
    FormItem,
    FormSection,
    FormStatus,
    FormVersion,
    Indicator,
    ValidationRule,
)
from . import forms as f
from . import spec_cache

NUMERIC_TYPES = ("integer", "decimal", "percent")
DYNAMIC_SOURCES = ("ethnic_groups", "religions")


@dataclass
class Dim:
    """A disaggregation of an indicator with its options (code, label)."""

    code: str
    options: list[tuple[str, str]]
    source: str

    @property
    def dynamic(self) -> bool:
        return self.source in DYNAMIC_SOURCES


@dataclass
class ItemSpec:
    """An indicator on the form; ``dims`` non-empty makes it a grid."""

    indicator: Indicator
    name: str
    dims: list[Dim] = field(default_factory=list)

    @property
    def grid(self) -> bool:
        return bool(self.dims)

    @property
    def row_dim(self) -> int:
        """The dimension listed as rows: the dynamic one (ethnic groups) when there is one."""
        return next((i for i, d in enumerate(self.dims) if d.dynamic), 0)


@dataclass
class FormSpec:
    form_version: FormVersion
    sections: list[tuple[str, list[ItemSpec]]]
    rules: list[tuple[ValidationRule, rules_module.Rule]]
    #: The definition stamp this copy was built under ("" for a draft, built per request):
    #: what may be kept from it, such as its fields' markup, is keyed on it.
    stamp: str = ""

    @property
    def items(self) -> list[ItemSpec]:
        return [item for _title, items in self.sections for item in items]

    def by_code(self) -> dict[str, ItemSpec]:
        return {item.indicator.code: item for item in self.items}


@dataclass
class Grid:
    """The rows and columns of one grid for this request."""

    item: ItemSpec
    rows: list[tuple[str, str]]
    cols: list[tuple[tuple[str, ...], str]]
    addable: list[tuple[str, str]]

    def cells(self):
        """(row code, row label, column index, column label, field name) for every cell."""
        for code, label in self.rows:
            for index, (_codes, col_label) in enumerate(self.cols):
                yield code, label, index, col_label, f"{self.item.name}_{code}_{index}"

    def key(self, row: str, col: int) -> str:
        """The canonical key, parts sorted by code: ``ethnic_group=03;sex=female``."""
        other = iter(self.cols[col][0])
        parts = [row if i == self.item.row_dim else next(other)
                 for i in range(len(self.item.dims))]
        pairs = sorted(zip((d.code for d in self.item.dims), parts, strict=True))
        return ";".join(f"{code}={part}" for code, part in pairs)


def _catalog_options(source: str) -> list[tuple[str, str]]:
    if source == "ethnic_groups":
        groups = db.session.scalars(sa.select(EthnicGroup).order_by(EthnicGroup.code))
        return [(g.code, lookup("ethnic_groups", g.id, "name", g.common_name or g.name)[0])
                for g in groups]
    religions = db.session.scalars(sa.select(Religion).order_by(Religion.id))
    return [(r.code or f"r{r.id}", tr(r, "name")) for r in religions]


def _dims(indicator: Indicator) -> list[Dim]:
    if indicator.value_type not in NUMERIC_TYPES:
        return []  # grids hold numbers; other types are asked once
    dims = []
    for d in indicator.disaggregations:
        options = (_catalog_options(d.source) if d.source in DYNAMIC_SOURCES
                   else [(o.code, tr(o, "label")) for o in d.options])
        dims.append(Dim(d.code, options, d.source))
    return dims


def dims_of(indicator: Indicator) -> list[Dim]:
    """The disaggregations of ``indicator`` with their options (lookups, exports)."""
    return _dims(indicator)


def _rules(form_version: FormVersion, codes: Mapping[str, str], session: so.Session):
    stmt = sa.select(ValidationRule).where(
        ValidationRule.catalogue_version_id == form_version.form.catalogue_version_id
    ).order_by(ValidationRule.code)
    parsed = []
    for rule in session.scalars(stmt):
        try:
            parsed.append((rule, rules_module.parse(rule.expression, codes)))
        except rules_module.RuleError:
            continue  # the rule reads an indicator that is not on this form
    return parsed


def _build(form_version: FormVersion, session: so.Session) -> FormSpec:
    sections = session.scalars(
        sa.select(FormSection).where(FormSection.form_version_id == form_version.id)
        .order_by(FormSection.position)
        .options(so.selectinload(FormSection.items).selectinload(FormItem.indicator)
                 .options(so.selectinload(Indicator.disaggregations)
                          .selectinload(Disaggregation.options),
                          so.selectinload(Indicator.choices)))).all()
    spec_sections = []
    for section in sections:
        items = [ItemSpec(item.indicator, f"v{item.indicator_id}", dims_of(item.indicator))
                 for item in section.items]
        spec_sections.append((tr(section, "title"), items))
    spec = FormSpec(form_version, spec_sections, [])
    spec.rules = _rules(form_version, {i.indicator.code: i.indicator.value_type
                                       for i in spec.items}, session)
    return spec


def _build_shared(form_version_id: int) -> FormSpec | None:
    """The definition built in a session of its own, detached, everything loaded; None when
    that session does not see the version published (published in this very transaction)."""
    with so.Session(db.engine.execution_options(**{READ_ONLY: True})) as session:
        version = session.get(FormVersion, form_version_id)
        if version is None or version.status == FormStatus.DRAFT:
            return None
        return _build(version, session)


def load_spec(form_version: FormVersion) -> FormSpec:
    """The sections, items and applicable rules of ``form_version``.

    A published version's definition is built once per process and locale and reused
    while the definition stamp says nothing it is built from changed
    (:mod:`.spec_cache`); a draft's is built for each request.
    """
    if form_version.status == FormStatus.DRAFT:
        return _build(form_version, db.session)
    current = spec_cache.stamp()
    key = (form_version.id, current_tag())
    spec = spec_cache.get(key, current)
    if spec is None:
        spec = _build_shared(form_version.id)
        if spec is None:
            return _build(form_version, db.session)
        spec = replace(spec, stamp=current)
        spec_cache.put(key, current, spec)
    return replace(spec, form_version=form_version)


def parse_key(key: str) -> dict[str, str]:
    """``ethnic_group=03;sex=female`` → {"ethnic_group": "03", "sex": "female"}."""
    return dict(part.partition("=")[::2] for part in key.split(";") if part)


def cell_label(item: ItemSpec, key: str) -> str:
    """The breakdown of a grid cell in words ("Thái – Nữ"); "" for a scalar or whole grid."""
    if not key:
        return ""
    parts = parse_key(key)
    dims = sorted(item.dims, key=lambda d: d is not item.dims[item.row_dim])  # rows first
    words = []
    for dim in dims:
        code = parts.get(dim.code)
        if code is not None:
            words.append(dict(dim.options).get(code, code))
    return " – ".join(words) or key


def _seen_rows(item: ItemSpec, names, previous_keys) -> set[str]:
    pattern = re.compile(rf"^{item.name}_([A-Za-z0-9]+)_\d+$")
    seen = {m.group(1) for m in map(pattern.match, names) if m}
    dim = item.dims[item.row_dim].code
    return seen | {parse_key(k).get(dim) for k in previous_keys} - {None}


def _grid(item: ItemSpec, names, previous_keys, added: str | None,
          nearby_keys=()) -> Grid:
    row_dim = item.dims[item.row_dim]
    others = [d for i, d in enumerate(item.dims) if i != item.row_dim]
    combos = list(product(*[d.options for d in others])) or [()]
    cols = [(tuple(code for code, _label in combo),
             " – ".join(label for _code, label in combo) or str(_l("Value")))
            for combo in combos]
    if not row_dim.dynamic:
        return Grid(item, row_dim.options, cols, [])
    present = _seen_rows(item, names, previous_keys) | ({added} if added else set())
    rows = [o for o in row_dim.options if o[0] in present]
    grid = Grid(item, rows, cols, [o for o in row_dim.options if o[0] not in present])
    order_addable(grid, nearby_keys)
    return grid


def order_addable(grid: Grid, nearby_keys) -> None:
    """Put the rows the commune reported (``nearby_keys``) first among the rows to add,
    keeping the catalog's order otherwise (a stable sort: sorting again is harmless)."""
    code = grid.item.dims[grid.item.row_dim].code
    near = {parse_key(k).get(code) for k in nearby_keys}
    grid.addable.sort(key=lambda o: o[0] not in near)


def add_choices(grid: Grid) -> list:
    """The choices of a grid's "add a row" select."""
    return f.options([("", "—"), *grid.addable])


def layout_item(item: ItemSpec) -> Grid:
    """The grid of one item with no rows chosen yet (its columns, for templates)."""
    return _grid(item, [], [], None)


def layout(spec: FormSpec, names, previous: Mapping[tuple[str, str], object],
           added: tuple[str, str] | None = None,
           nearby: Mapping[str, set[str]] | None = None) -> dict[str, Grid]:
    """The grids of this request, by item name.

    :param names: the field names posted or saved (rows the user already has).
    :param previous: last period's values by (indicator code, key): its groups come first.
    :param added: (item name, row code) when the user asked for one more row.
    :param nearby: indicator code → keys reported in the village's commune
        (:func:`~dantoc.submissions.queries.keys_nearby`): first among the rows to add.
    """
    names = list(names)
    grids = {}
    for item in spec.items:
        if item.grid:
            keys = [k for (code, k) in previous if code == item.indicator.code]
            extra = added[1] if added and added[0] == item.name else None
            grids[item.name] = _grid(item, names, keys, extra,
                                     (nearby or {}).get(item.indicator.code, ()))
    return grids


def _number_attrs(indicator: Indicator, low, high) -> dict:
    integer = indicator.value_type == "integer"
    attrs = {"inputmode": "numeric" if integer else "decimal", "step": "1" if integer else "any"}
    if low is not None:
        attrs["min"] = f.plain(low)
    if high is not None:
        attrs["max"] = f.plain(high)
    return attrs


def bounds(indicator: Indicator):
    """Minimum and maximum: counts and percentages cannot be negative; percent ≤ 100."""
    low, high = indicator.min_value, indicator.max_value
    if low is None and indicator.value_type in ("integer", "percent"):
        low = Decimal(0)
    if high is None and indicator.value_type == "percent":
        high = Decimal(100)
    return low, high


def _first(required: bool):
    return f.RequiredOnSubmit() if required else f.OptionalValue()


def number_rule(indicator: Indicator, required: bool) -> f.FieldRule:
    """How a number field (a scalar, or a grid cell: never required) reads and checks."""
    low, high = bounds(indicator)
    return f.FieldRule("number", (_first(required), f.Range(low, high)),
                       integer=indicator.value_type == "integer")


def _choice_values(indicator: Indicator) -> list[str]:
    return [c.code for c in indicator.choices]


def scalar_rule(indicator: Indicator) -> f.FieldRule:
    """How the field of one indicator value reads and checks, by value type (the
    validators of :func:`scalar_field`)."""
    kind = indicator.value_type
    if kind in NUMERIC_TYPES:
        return number_rule(indicator, indicator.required)
    first = _first(indicator.required)
    if kind == "yes_no":
        return f.FieldRule("choice", (first,), values=frozenset(c.value for c in f.yes_no()))
    if kind == "choice":
        values = _choice_values(indicator)
        return f.FieldRule("choice", (first,),
                           values=frozenset(values if len(values) <= 4 else ["", *values]))
    return f.FieldRule("text", (first, f.MaxLength()))


def number_field(indicator: Indicator, label: str, required: bool) -> Field:
    low, high = bounds(indicator)
    attrs = _number_attrs(indicator, low, high)
    if required:
        attrs["required"] = True
    rule = number_rule(indicator, required)
    return f.NumberField(label, list(rule.validators), render_kw=attrs, integer=rule.integer)


def scalar_field(indicator: Indicator) -> Field:
    """The field for one indicator value, by value type."""
    label, kind = tr(indicator, "name"), indicator.value_type
    if kind in NUMERIC_TYPES:
        return number_field(indicator, label, indicator.required)
    validators = list(scalar_rule(indicator).validators)
    if kind == "yes_no":
        return f.ChoiceRadioField(label, validators, choices=f.yes_no())
    if kind == "choice":
        choices = [(c.code, tr(c, "label")) for c in indicator.choices]
        if len(choices) <= 4:
            return f.ChoiceRadioField(label, validators, choices=f.options(choices))
        return f.ChoiceSelectField(label, validators,
                                   choices=f.options([("", "—"), *choices]))
    return f.text_field(label, validators)


def _item_rule(item: ItemSpec) -> f.FieldRule:
    """The rule of a scalar item's field, or of each of a grid item's cells; kept on the
    item (a published definition's items are shared by every request of the process)."""
    rule = item.__dict__.get("_rule")
    if rule is None:
        rule = (number_rule(item.indicator, False) if item.grid
                else scalar_rule(item.indicator))
        item.__dict__["_rule"] = rule
    return rule


def parse(spec: FormSpec, grids: Mapping[str, Grid], formdata) -> f.Posted:
    """The posted form read and checkable as :func:`build`'s form would be, without
    WTForms (a submit's server time went a fifth into building and validating some 40
    WTForms fields): the same fields by name, validators and messages."""
    rules: dict[str, f.FieldRule] = {}
    for item in spec.items:
        rule, grid = _item_rule(item), grids.get(item.name)
        if grid is None:
            rules[item.name] = rule
        else:
            for _code, _row, _i, _col, name in grid.cells():
                rules[name] = rule
    return f.Posted(rules, formdata)


def build(spec: FormSpec, grids: Mapping[str, Grid], formdata=None, **defaults) -> f.EntryForm:
    """An :class:`EntryForm` with a field per scalar indicator and per grid cell."""
    attrs: dict[str, Field] = {}
    for item in spec.items:
        grid = grids.get(item.name)
        if grid is None:
            attrs[item.name] = scalar_field(item.indicator)
            continue
        for _code, row_label, _i, col_label, name in grid.cells():
            attrs[name] = number_field(item.indicator, f"{row_label} – {col_label}", False)
        if grid.addable:
            label = (_l("Add an ethnic group") if item.dims[item.row_dim].source ==
                     "ethnic_groups" else _l("Add a row"))
            attrs[f"add_{item.name}"] = SelectField(label, choices=add_choices(grid),
                                                    validate_choice=False)
    form_class = type("Entry", (f.EntryForm,), attrs)
    return form_class(formdata=formdata, data=defaults)
