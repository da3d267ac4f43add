"""Forms of the machine accounts' admin screens."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SelectField, StringField
from wtforms.validators import DataRequired, Length

from .clients import NAME_MAX


def _coerce_id(value) -> int | None:
    return int(value) if value not in (None, "", "None", "0", 0) else None


class ApiClientForm(FlaskForm):
    """Create a machine account; the view fills the role and unit choices."""

    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=NAME_MAX)],
                       filters=[lambda v: v.strip() if isinstance(v, str) else v],
                       render_kw={"autocomplete": "off", "autocapitalize": "none",
                                  "maxlength": NAME_MAX})
    #: No DataRequired: a select always has a choice (a value not among them is refused),
    #: and its ``required`` attribute would need an empty first option (HTML).
    role_code = SelectField(_l("Role"))
    unit_id = SelectField(_l("Unit"), coerce=_coerce_id)


class ConfirmForm(FlaskForm):
    """A confirmed action (rotate, revoke): only the CSRF token."""
