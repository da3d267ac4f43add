"""The entry form's base class, its typed fields and validators (messages localised).

The builder in :mod:`.formbuilder` adds one field per indicator (or per grid cell) to a
subclass of :class:`EntryForm` at run time. Fields keep the raw text as typed, so a draft
with "12a" in a number field shows "12a" again together with the message.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import Field, HiddenField, RadioField, SelectField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import StopValidation, ValidationError
from wtforms.widgets import NumberInput

_INTEGER = re.compile(r"^[+-]?\d+$")
_DECIMAL = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)$")
#: Numeric(18, 4): 14 digits before the point, 4 after.
MAX_INTEGER_DIGITS = 14
MAX_DECIMALS = 4
MAX_TEXT = 1000
ACTIONS = ("draft", "submit", "add")


class _Identity:
    """The hidden identity of an entry form and the button pressed (``uuid``,
    ``base_version`` and ``action`` fields with ``data``)."""

    def verb(self) -> str:
        """The action without its argument."""
        return (self.action.data or "draft").partition(":")[0]

    def submitting(self) -> bool:
        return self.verb() == "submit"

    def identity(self) -> tuple[uuid.UUID, int] | None:
        """The client UUID and base version, or None when they are malformed."""
        try:
            key = uuid.UUID(self.uuid.data or "")
            base = int(self.base_version.data or "0")
        except ValueError:
            return None
        return (key, base) if 0 <= base < 10_000 else None


class EntryForm(_Identity, FlaskForm):
    """Hidden identity of the submission; the indicator fields are added by the builder."""

    uuid = HiddenField()
    base_version = HiddenField()
    #: The pressed button: "draft", "submit" or "add:<item name>".
    action = HiddenField()


def _parse_number(text: str, integer: bool) -> Decimal:
    """Parse digits typed on a phone; a decimal comma is accepted ("12,5").

    :raise ValueError: with the message to show.
    """
    text = text.replace(" ", "")
    if integer:
        if not _INTEGER.match(text):
            raise ValueError(_("Enter a whole number, digits only."))
    else:
        if text.count(",") == 1 and "." not in text:
            text = text.replace(",", ".")
        if not _DECIMAL.match(text):
            raise ValueError(_("Enter a number, for example 12.5."))
    try:
        value = Decimal(text)
    except InvalidOperation as error:  # pragma: no cover - the patterns above prevent it
        raise ValueError(_("Enter a number.")) from error
    if abs(value) >= Decimal(10) ** MAX_INTEGER_DIGITS:
        raise ValueError(_("This number is too large."))
    if value.as_tuple().exponent < -MAX_DECIMALS:
        raise ValueError(_("Use at most %(n)s decimal places.", n=MAX_DECIMALS))
    return value


#: A valid floating-point number in HTML (the value a number input may carry).
HTML_NUMBER = re.compile(r"^-?(?:\d+(?:\.\d+)?|\.\d+)(?:[eE][-+]?\d+)?$")


class NumberField(Field):
    """A number typed as text; ``data`` is a Decimal, ``raw`` what was typed."""

    widget = NumberInput()

    def __init__(self, label=None, validators=None, *, integer: bool = True, **kwargs):
        super().__init__(label, validators, **kwargs)
        self.integer = integer
        self.raw = ""
        self.parse_error: str | None = None

    def process_formdata(self, valuelist):
        self.raw = (valuelist[0] if valuelist else "").strip()[:40]
        self.data, self.parse_error = None, None
        if self.raw:
            try:
                self.data = _parse_number(self.raw, self.integer)
            except ValueError as error:
                self.parse_error = str(error)

    def _value(self) -> str:
        return self.raw

    def __call__(self, **kwargs):
        """A number input, or a text input when what was typed is not a number the browser
        can hold (a number input's value must be one): what was typed is shown as typed."""
        if self.raw and not HTML_NUMBER.match(self.raw):
            kwargs.update(type="text", min=False, max=False, step=False)
        return super().__call__(**kwargs)

    def pre_validate(self, form):
        if self.parse_error:
            raise StopValidation(self.parse_error)


class ChoiceRadioField(RadioField):
    """Radio buttons whose unknown values get our message, not WTForms' one."""

    def pre_validate(self, form):
        if self.data not in (None, "") and self.data not in {c.value for c in self.choices}:
            raise StopValidation(_("Choose one of the options."))


class ChoiceSelectField(SelectField):
    """A select whose unknown values get our message."""

    def pre_validate(self, form):
        if self.data not in (None, "") and self.data not in {c.value for c in self.choices}:
            raise StopValidation(_("Choose one of the options."))


def is_empty(field: Field) -> bool:
    return field.data in (None, "") and not getattr(field, "raw", "")


class RequiredOnSubmit:
    """Required when submitting; a draft may be incomplete. Stops the chain when empty."""

    field_flags = {"required": True}

    def __call__(self, form, field):
        if not is_empty(field):
            return
        if form.submitting():
            raise StopValidation(_("Please answer this question."))
        raise StopValidation()


class OptionalValue:
    """Stops the chain on an empty field, so range checks only see values."""

    def __call__(self, form, field):
        if is_empty(field):
            raise StopValidation()


class Range:
    """Inclusive bounds with localised messages (negative counts, values past max)."""

    def __init__(self, low: Decimal | None, high: Decimal | None):
        self.low, self.high = low, high

    def __call__(self, form, field):
        value = field.data
        if self.low is not None and value < self.low:
            raise ValidationError(_("Must be at least %(n)s.", n=plain(self.low)))
        if self.high is not None and value > self.high:
            raise ValidationError(_("Must be at most %(n)s.", n=plain(self.high)))


class MaxLength:
    def __init__(self, limit: int = MAX_TEXT):
        self.limit = limit

    def __call__(self, form, field):
        if field.data and len(field.data) > self.limit:
            raise ValidationError(_("At most %(n)s characters.", n=self.limit))


def plain(value: Decimal | None) -> str:
    """A Decimal without exponent or trailing zeros: 120.0000 → "120"."""
    if value is None:
        return ""
    return format(value.normalize(), "f")


def options(pairs) -> list[SelectChoice]:
    """WTForms choices from (value, label) pairs."""
    return [SelectChoice(value, label) for value, label in pairs]


def yes_no() -> list[SelectChoice]:
    return options((("1", _l("Yes")), ("0", _l("No"))))


def text_field(label: str, validators: list) -> TextAreaField:
    """A text answer; ``validators`` end with :class:`MaxLength`."""
    return TextAreaField(label, validators, render_kw={"rows": 2, "maxlength": MAX_TEXT})


class WorkbookForm(FlaskForm):
    """The upload of a filled village-data template (nhập từ tệp)."""

    file = FileField(_l("Filled XLSX template"), validators=[FileRequired()])


# --- A submit read without WTForms --------------------------------------------------------


@dataclass(frozen=True)
class FieldRule:
    """How one field of the entry form reads and checks what was posted: exactly what the
    WTForms field :mod:`.formbuilder` builds for it does (same validators, same messages),
    without building some 40 field objects per request. ``kind``: ``number`` (a
    :class:`NumberField`), ``choice`` (:class:`ChoiceRadioField` / :class:`ChoiceSelectField`)
    or ``text`` (a text area)."""

    kind: str
    validators: tuple
    integer: bool = True
    #: The values a choice accepts.
    values: frozenset[str] = frozenset()


class PostedField:
    """What a WTForms field holds after ``process`` and ``validate``: ``data``, ``errors``,
    and for a number the text as typed (``raw``; None for other kinds, which have none)."""

    __slots__ = ("data", "errors", "parse_error", "raw", "rule")

    def __init__(self, rule: FieldRule, valuelist: list[str]):
        self.rule, self.errors, self.parse_error, self.raw = rule, [], None, None
        if rule.kind == "number":  # NumberField.process_formdata
            self.raw = (valuelist[0] if valuelist else "").strip()[:40]
            self.data = None
            if self.raw:
                try:
                    self.data = _parse_number(self.raw, rule.integer)
                except ValueError as error:
                    self.parse_error = str(error)
        else:  # SelectField / StringField.process_formdata (coerce=str)
            self.data = valuelist[0] if valuelist else None

    def _pre_validate(self) -> None:
        rule = self.rule
        if rule.kind == "number" and self.parse_error:
            raise StopValidation(self.parse_error)
        if (rule.kind == "choice" and self.data not in (None, "")
                and self.data not in rule.values):
            raise StopValidation(_("Choose one of the options."))

    def validate(self, form) -> None:
        """``Field.validate``: pre-validation, then the chain until one stops it."""
        self.errors = []
        try:
            self._pre_validate()
        except StopValidation as error:
            if error.args and error.args[0]:
                self.errors.append(error.args[0])
            return
        for validator in self.rule.validators:
            try:
                validator(form, self)
            except StopValidation as error:
                if error.args and error.args[0]:
                    self.errors.append(error.args[0])
                return
            except ValidationError as error:
                self.errors.append(error.args[0])


class _Value:
    __slots__ = ("data",)

    def __init__(self, data):
        self.data = data


class Posted(_Identity):
    """The posted entry form read by :class:`FieldRule` s: what :func:`.checks.evaluate`,
    :func:`.checks.cells` and :func:`.checks.raw_payload` read of an :class:`EntryForm`
    (fields by name with ``data``, ``errors`` and ``raw``; the identity and the button)."""

    def __init__(self, rules: dict[str, FieldRule], formdata):
        self._fields = {name: PostedField(rule, formdata.getlist(name))
                        for name, rule in rules.items()}
        for name in ("uuid", "base_version", "action"):
            values = formdata.getlist(name)
            setattr(self, name, _Value(values[0] if values else None))

    def __getitem__(self, name: str) -> PostedField:
        return self._fields[name]

    def validate(self) -> bool:
        for field in self._fields.values():
            field.validate(self)
        return not any(field.errors for field in self._fields.values())
