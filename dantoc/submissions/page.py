"""The entry page's state and the small presentation helpers its templates call."""

from __future__ import annotations

from decimal import Decimal

from flask import url_for
from flask_babel import gettext as _

from ..i18n.content import tr
from ..i18n.formatting import format_number
from . import checks, formbuilder, queries, states
from .comments import for_village
from .formbuilder import Grid, ItemSpec, cell_label
from .services import Target


class Page:
    """Everything the form page shows: target, form, grids, messages, lock."""

    #: The endpoints of the page and of its checks: the village's own, or the commune's
    #: entry on the village's behalf (``/entry/for/…``, issue #14).
    ENDPOINTS = {False: {"entry": "submissions.entry", "check": "submissions.check"},
                 True: {"entry": "submissions.entry_for", "check": "submissions.check_for",
                        "paper": "submissions.paper"}}

    def __init__(self, target: Target, submission, formdata=None, *, on_behalf: bool = False,
                 **defaults):
        self.target, self.submission = target, submission
        self.on_behalf = on_behalf
        self.source = states.COMMUNE if on_behalf else states.VILLAGE
        self.spec = formbuilder.load_spec(target.form_version)
        self.previous = queries.previous_values(target.form_version.form, target.unit,
                                                target.period)
        names = list(formdata.keys()) if formdata else []
        dynamic = [i.indicator.code for i in self.spec.items
                   if i.grid and i.dims[i.row_dim].dynamic]
        self.nearby = queries.keys_nearby(target.unit, dynamic)
        #: (item name, row code) of the row just added: its first cell takes the focus.
        self.added: tuple[str, str] | None = None
        self.grids = formbuilder.layout(self.spec, names, self.previous.values,
                                        nearby=self.nearby)
        self.form = formbuilder.build(self.spec, self.grids, formdata, **defaults)
        if self.form.verb() == "add":
            self._add_row(formdata, names, defaults)
        self.checks = checks.evaluate(self.spec, self.grids, self.form)
        self.lock = None
        self.refusal: str | None = None
        self.saved_at = None
        self._load_comments()

    def _load_comments(self) -> None:
        """The reviewer's comments on the returned version, by (indicator id, cell key)."""
        self.comments = {(c.indicator_id, c.disaggregation): c
                         for c in for_village(self.submission)}

    def comment(self, item: ItemSpec):
        """The comment on a scalar, or on a grid as a whole."""
        return self.comments.get((item.indicator.id, ""))

    def cell_comment(self, item: ItemSpec, grid: Grid, code: str, index: int):
        return self.comments.get((item.indicator.id, grid.key(code, index)))

    def commented(self) -> list[tuple[str, str]]:
        """(anchor, field name in words) of every commented field on this form, for the
        list under the return reason."""
        result = []
        for item in self.spec.items:
            for (indicator_id, key), _comment in self.comments.items():
                if indicator_id == item.indicator.id:
                    label = tr(item.indicator, "name")
                    if key:
                        label = f"{label} ({cell_label(item, key)})"
                    result.append((self._anchor(item, key), label))
        return result

    def _anchor(self, item: ItemSpec, key: str) -> str:
        """The id to jump to: the grid cell's input, else the field."""
        grid = self.grids.get(item.name)
        if key and grid is not None:
            for code, _label, index, _col, name in grid.cells():
                if grid.key(code, index) == key:
                    return name
        return f"{item.name}-f"

    def _add_row(self, formdata, names, defaults) -> None:
        item_name = self.form.action.data.partition(":")[2]
        select = self.form._fields.get(f"add_{item_name}")
        if select is not None and select.data:
            self.added = (item_name, select.data)
            self.grids = formbuilder.layout(self.spec, names, self.previous.values,
                                            added=self.added, nearby=self.nearby)
            self.form = formbuilder.build(self.spec, self.grids, formdata, **defaults)

    def payload(self) -> dict:
        return checks.raw_payload(self.spec, self.grids, self.form)

    def url(self, kind: str = "entry") -> str:
        """The URL of this page (``entry``) or of its checks (``check``)."""
        t = self.target
        return url_for(self.ENDPOINTS[self.on_behalf][kind], unit_id=t.unit.id,
                       form_code=t.form_version.form.code, period_code=t.period.code)

    def back_url(self) -> str:
        """Back to the list this page was opened from."""
        return url_for("submissions.behalf_index" if self.on_behalf else "submissions.index")

    def _shown(self, item: ItemSpec, value) -> str:
        if isinstance(value, bool):
            return _("Yes") if value else _("No")
        if isinstance(value, Decimal):
            return format_number(value)
        labels = {c.code: c.label for c in item.indicator.choices}
        return labels.get(value, str(value)[:60])

    def previous_text(self, item: ItemSpec) -> str | None:
        """Last period's value of a scalar, or its grid total, for display."""
        values = self.previous.values
        code = item.indicator.code
        if item.grid:
            cells = [v for (c, k), v in values.items() if c == code and k]
            value = sum(cells, Decimal(0)) if cells else None
        else:
            value = values.get((code, ""))
        if value is None:
            return None
        text = self._shown(item, value)
        return text if self.previous.approved else _("%(value)s (not yet approved)", value=text)

    def previous_cell(self, item: ItemSpec, grid: Grid, code: str, index: int) -> str | None:
        value = self.previous.values.get((item.indicator.code, grid.key(code, index)))
        return None if value is None else self._shown(item, value)

    def described_by(self, item: ItemSpec) -> str:
        ids = [f"{item.name}-m"]
        if item.indicator.help_text:
            ids.insert(0, f"{item.name}-h")
        if self.previous_text(item):
            ids.insert(0, f"{item.name}-p")
        if self.comment(item):
            ids.insert(0, f"{item.name}-rc")
        return " ".join(ids)

    def attrs(self, item: ItemSpec, msgs) -> dict:
        """Extra attributes of a scalar input: what describes it and whether it is invalid."""
        attrs = {"aria_describedby": self.described_by(item)}
        if any(m.error for m in msgs):
            attrs["aria_invalid"] = "true"
        return attrs

    def cell_attrs(self, item: ItemSpec, code: str, index: int) -> dict:
        """A grid cell is labelled by the grid's legend, its row and its column."""
        name = item.name
        attrs = {"aria_labelledby": f"{name}-l {name}-r{code} {name}-c{index}"}
        if self.cell_comment(item, self.grids[name], code, index):
            attrs["aria_describedby"] = f"{name}_{code}_{index}-rc"
        if self.form[f"{name}_{code}_{index}"].errors:
            attrs["aria_invalid"] = "true"
        if self.added == (name, code) and index == 0:
            attrs["autofocus"] = True  # htmx focuses it after the swap: the place is kept
        return attrs
