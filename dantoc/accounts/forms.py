"""Forms of the accounts domain."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, PasswordField, SelectField, StringField
from wtforms.validators import DataRequired, EqualTo, Length, Optional, Regexp, ValidationError

from .passwords import MAX_LENGTH, PIN_MAX, password_messages, password_problems, pin_problem


def _coerce_id(value) -> int | None:
    return int(value) if value not in (None, "", "None", "0", 0) else None


class LoginForm(FlaskForm):
    username = StringField(_l("Username"), validators=[DataRequired(), Length(max=60)],
                           render_kw={"autocomplete": "username", "autocapitalize": "none"})
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=200)],
                             render_kw={"autocomplete": "current-password"})


class PasswordChangeForm(FlaskForm):
    current_password = PasswordField(_l("Current password"), validators=[DataRequired()],
                                     render_kw={"autocomplete": "current-password"})
    new_password = PasswordField(_l("New password"), validators=[DataRequired()],
                                 render_kw={"autocomplete": "new-password",
                                            "maxlength": MAX_LENGTH})
    confirm = PasswordField(_l("New password again"), validators=[
        DataRequired(), EqualTo("new_password", message=_l("The two passwords differ."))],
        render_kw={"autocomplete": "new-password"})

    def __init__(self, username: str, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._username = username

    def validate_new_password(self, field) -> None:
        problems = password_problems(field.data or "", self._username)
        if problems:
            raise ValidationError(" ".join(password_messages(problems)))


class _PinFields(FlaskForm):
    pin = PasswordField(_l("PIN (4 to 8 digits)"), validators=[DataRequired()],
                        render_kw={"inputmode": "numeric", "autocomplete": "new-password",
                                   "maxlength": PIN_MAX, "pattern": "[0-9]*"})

    def validate_pin(self, field) -> None:
        problem = pin_problem(field.data or "")
        if problem:
            raise ValidationError(problem)


class ActivationForm(_PinFields):
    code = StringField(_l("Activation code"), validators=[DataRequired(), Length(max=40)],
                       render_kw={"autocomplete": "one-time-code", "autocapitalize": "characters"})
    pin_confirm = PasswordField(_l("PIN again"), validators=[
        DataRequired(), EqualTo("pin", message=_l("The two PINs differ."))],
        render_kw={"inputmode": "numeric", "autocomplete": "new-password",
                   "maxlength": PIN_MAX, "pattern": "[0-9]*"})
    device_name = StringField(_l("Name of this phone (optional)"),
                              validators=[Optional(), Length(max=120)])


class UnlockForm(FlaskForm):
    pin = PasswordField(_l("PIN"), validators=[DataRequired(), Length(max=PIN_MAX)],
                        render_kw={"inputmode": "numeric", "autocomplete": "current-password",
                                   "maxlength": PIN_MAX, "pattern": "[0-9]*"})


class LogoutForm(FlaskForm):
    forget = BooleanField(_l("Also forget this phone"))


class ActionForm(FlaskForm):
    """A button that changes state: only the CSRF token."""


class UserSearchForm(FlaskForm):
    class Meta:
        csrf = False

    q = StringField(_l("Search by name, username or unit"), validators=[Optional(),
                                                                         Length(max=100)])


class UserForm(FlaskForm):
    """Create or edit a user; the view fills the role, unit and department choices."""

    username = StringField(_l("Username"), validators=[
        DataRequired(), Length(min=3, max=60),
        Regexp(r"^[A-Za-z0-9][A-Za-z0-9._-]*$", message=_l(
            "Use letters without accents, digits, dot, dash or underscore."))],
        render_kw={"autocapitalize": "none", "autocomplete": "off"})
    full_name = StringField(_l("Full name"), validators=[DataRequired(), Length(max=150)])
    role_code = SelectField(_l("Role"), validators=[DataRequired()])
    unit_id = SelectField(_l("Unit (scope)"), coerce=_coerce_id)
    department_id = SelectField(_l("Department"), coerce=_coerce_id)
    phone = StringField(_l("Mobile phone (for reminders by SMS)"), validators=[
        Optional(), Regexp(r"^(\+84|0)[0-9]{9,10}$", message=_l(
            "Write a Vietnamese mobile number: 10 digits starting with 0, e.g. 0912345678."))],
        filters=[lambda v: "".join((v or "").split()).replace(".", "") or None],
        render_kw={"inputmode": "tel", "autocomplete": "off"})
    email = StringField(_l("E-mail (for reminders)"), validators=[
        Optional(), Length(max=254), Regexp(r"^[^@\s]+@[^@\s]+\.[^@\s]+$", message=_l(
            "Write an e-mail address such as ten@laichau.gov.vn."))],
        filters=[lambda v: (v or "").strip() or None],
        render_kw={"inputmode": "email", "autocomplete": "off"})
    password = PasswordField(_l("New password (staff; leave empty to keep)"),
                             validators=[Optional()],
                             render_kw={"autocomplete": "new-password"})

    def validate_password(self, field) -> None:
        if field.data and self.role_code.data == "village_head":
            raise ValidationError(_l("Village heads sign in with a PIN on their phone; "
                                     "issue an activation code instead."))
        problems = password_problems(field.data or "", self.username.data or "")
        if field.data and problems:
            raise ValidationError(" ".join(password_messages(problems)))
