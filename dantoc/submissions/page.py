"""The entry page's state and the small presentation helpers its templates call."""

from __future__ import annotations

from decimal import Decimal

from flask import current_app, url_for
from flask_babel import gettext as _
from flask_wtf.csrf import generate_csrf
from markupsafe import Markup, escape

from ..i18n.content import tr
from ..i18n.formatting import format_number
from ..i18n.messages import FILE_ONLY
from ..i18n.selection import current_tag
from . import checks, formbuilder, queries, spec_cache, states
from .comments import for_village
from .formbuilder import Grid, ItemSpec, cell_label
from .forms import EntryForm
from .services import Target

#: Where the page's own URL goes in a kept field (a control character never comes from data),
#: and the CSRF token and the UUID in a kept form.
URL_SLOT = "\x00url\x00"
CSRF_SLOT = "\x00csrf\x00"
UUID_SLOT = "\x00uuid\x00"


def submitting(formdata) -> bool:
    """Whether ``formdata`` (posted, or None) submits the form."""
    return bool(formdata) and (formdata.get("action") or "").partition(":")[0] == "submit"


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
        self.typed = formdata is not None
        self.on_behalf = on_behalf
        self.source = states.COMMUNE if on_behalf else states.VILLAGE
        self.spec = formbuilder.load_spec(target.form_version)
        self._dynamic = [i.indicator.code for i in self.spec.items
                         if i.grid and i.dims[i.row_dim].dynamic]
        self._formdata, self._defaults = formdata, defaults
        #: A submit checks and stores what was posted; what only a form on the screen needs
        #: (last period's values and the rows they add, the commune's rows offered first:
        #: three statements) waits for :meth:`shown`, as an accepted submit shows no form.
        self.lean = submitting(formdata)
        self._prepare()
        self.lock = None
        self.refusal: str | None = None
        self.saved_at = None
        self._load_comments()

    def _prepare(self) -> None:
        """Last period's values, the grids' rows, the WTForms form and the checks."""
        t, formdata, defaults = self.target, self._formdata, self._defaults
        self.previous = (queries.Previous({}, False) if self.lean else
                         queries.previous_values(t.form_version.form, t.unit, t.period))
        names = list(formdata.keys()) if formdata else []
        #: The keys the commune reported (rows to add come first): None until needed.
        self.nearby = None if self.lean else self._nearby()
        #: (item name, row code) of the row just added: its first cell takes the focus.
        self.added: tuple[str, str] | None = None
        self.grids = formbuilder.layout(self.spec, names, self.previous.values,
                                        nearby=self.nearby)
        self._form: EntryForm | None = None
        if self.typed and self.lean:  # a submit: read and checked without WTForms
            self.form = formbuilder.parse(self.spec, self.grids, formdata)
            self.checks = checks.evaluate(self.spec, self.grids, self.form)
        elif self.typed:
            self.form = formbuilder.build(self.spec, self.grids, formdata, **defaults)
            if self.form.verb() == "add":
                self._add_row(formdata, names, defaults)
            self.checks = checks.evaluate(self.spec, self.grids, self.form)
        else:  # nothing typed: no field has a message, only the form's rules may speak
            self.checks = checks.evaluate_untouched(self.spec)

    def shown(self) -> Page:
        """This page, complete to be shown (a submit's page is prepared lean: its messages
        are the same, its grids lack last period's rows)."""
        if self.lean:
            self.lean = False
            self._prepare()
        return self

    @property
    def form(self) -> EntryForm:
        """The WTForms form; on a page with nothing typed, built when a field is drawn
        (most are drawn from :meth:`untouched` markup, without it)."""
        if self._form is None:
            self._form = formbuilder.build(self.spec, self.grids, None, **self._defaults)
        return self._form

    @form.setter
    def form(self, form: EntryForm) -> None:
        self._form = form

    @property
    def hidden(self) -> EntryForm:
        """The form's hidden fields (CSRF token, UUID, base version): the form's own, or
        those of a form without indicator fields when it is not built."""
        if self._form is not None:
            return self._form
        if "_hidden" not in self.__dict__:
            self._hidden = EntryForm(formdata=None, data=self._defaults)
        return self._hidden

    def _nearby(self) -> dict[str, set[str]]:
        return queries.keys_nearby(self.target.unit, self._dynamic)

    def add_field(self, item: ItemSpec):
        """The select of a grid's rows to add (None when all are there), the commune's
        rows first."""
        select = self.form._fields.get(f"add_{item.name}")
        if select is not None and self.nearby is None:
            self.nearby = self._nearby()
            for name, grid in self.grids.items():
                formbuilder.order_addable(grid, self.nearby.get(grid.item.indicator.code, ()))
                if f"add_{name}" in self.form._fields:
                    self.form[f"add_{name}"].choices = formbuilder.add_choices(grid)
        return select

    def _untouched_page(self) -> str | None:
        """The locale tag when fields of this page may come from kept markup: nothing typed,
        no row just added, no comment, a published definition and interface text kept per
        process, templates not reloaded when edited (None otherwise)."""
        if "_untouched_tag" not in self.__dict__:
            tag = current_tag()
            self._untouched_tag = (None if self.typed or self.added or self.comments
                                   or not self.spec.stamp or tag not in FILE_ONLY
                                   or current_app.jinja_env.auto_reload else tag)
        return self._untouched_tag

    def _untouched_key(self, item: ItemSpec) -> tuple | None:
        """What an untouched field's markup depends on, or None when it shows something of
        this request (a value, a message, last period's value, a comment, a row just added),
        or comes from a definition or interface text that is not kept per process."""
        tag = self._untouched_page()
        if tag is None or self.checks.messages.get(item.name):
            return None
        code = item.indicator.code
        if any(c == code for c, _key in self.previous.values):
            return None
        grid = self.grids.get(item.name)
        rows = tuple(c for c, _label in grid.rows) if grid else ()
        addable = tuple(c for c, _label in grid.addable) if grid else ()
        return (self.spec.stamp, self.target.form_version.id, tag, item.name, rows, addable,
                self.on_behalf)

    def _form_key(self) -> tuple | None:
        """What the whole form's markup (its summary, fields and buttons) depends on when no
        field shows anything of this request and nothing is saved or refused, or None. The
        page's address, CSRF token and UUID are put back in (:meth:`kept_form`)."""
        if (self._untouched_page() is None or self.saved_at is not None or self.refusal
                or self.checks.messages or self.previous.values or "uuid" not in self._defaults):
            return None
        keys = [self._untouched_key(item) for item in self.spec.items]
        if None in keys:
            return None
        fields = tuple(key[3:] for key in keys)
        return ("form", self.spec.stamp, self.target.form_version.id, self._untouched_tag,
                self.on_behalf, self._defaults.get("base_version"), fields)

    def _form_slots(self) -> dict[str, object]:
        return {URL_SLOT: self.url, CSRF_SLOT: generate_csrf,
                UUID_SLOT: lambda: self._defaults["uuid"]}

    def kept_form(self) -> Markup | None:
        """The kept markup of the whole form of a page where every field is untouched, with
        this page's address, CSRF token and UUID (:meth:`keep_form`), or None."""
        key = self._form_key()
        kept = spec_cache.kept_markup(key) if key is not None else None
        if kept is None:
            return None
        for slot, value in self._form_slots().items():
            if slot in kept:  # no token where CSRF protection is off (tests)
                kept = kept.replace(slot, escape(value()))
        return Markup(kept)  # noqa: S704 (our markup)

    def keep_form(self, markup: Markup) -> Markup:
        """Keep the whole form's markup for the next pages of the same variant (the fields,
        the hidden inputs and the summary were a third of a new form's server time even
        with each field's markup kept); give it back."""
        key = self._form_key()
        if key is not None:
            text = str(markup)
            for slot, value in self._form_slots().items():
                text = text.replace(escape(value()), slot)
            spec_cache.keep_markup(key, text)
        return markup

    def untouched(self, item: ItemSpec) -> Markup | None:
        """The kept markup of an untouched field (:meth:`keep`), or None."""
        key = self._untouched_key(item)
        kept = spec_cache.kept_markup(key) if key is not None else None
        if kept is None:
            return None
        return Markup(kept.replace(URL_SLOT, escape(self.url())))  # noqa: S704 (our markup)

    def keep(self, item: ItemSpec, markup: Markup) -> Markup:
        """Keep the markup of an untouched field for the next pages (rendering some 40 fields
        with their WTForms widgets was half of a new form's server time); give it back."""
        key = self._untouched_key(item)
        if key is not None:
            spec_cache.keep_markup(key, str(markup).replace(escape(self.url()), URL_SLOT))
        return markup

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
        """The URL of this page (``entry``) or of its checks (``check``), built once."""
        urls = self.__dict__.setdefault("_urls", {})
        if kind not in urls:
            t = self.target
            urls[kind] = url_for(self.ENDPOINTS[self.on_behalf][kind], unit_id=t.unit.id,
                                 form_code=t.form_version.form.code, period_code=t.period.code)
        return urls[kind]

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
