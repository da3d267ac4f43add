"""Filters of the audit viewer (a GET form: no CSRF, bookmarkable)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import StringField
from wtforms.validators import Length, Optional

from ..web.inputs import DateField


class AuditFilterForm(FlaskForm):
    class Meta:
        csrf = False

    actor = StringField(_l("Who (username)"), validators=[Optional(), Length(max=60)])
    action = StringField(_l("Action (e.g. auth.login_failed, user.)"),
                         validators=[Optional(), Length(max=60)])
    object_type = StringField(_l("Object type (e.g. users)"),
                              validators=[Optional(), Length(max=40)])
    object_id = StringField(_l("Object id"), validators=[Optional(), Length(max=60)])
    date_from = DateField(_l("From"), validators=[Optional()])
    date_to = DateField(_l("To (inclusive)"), validators=[Optional()])
