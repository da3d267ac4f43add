"""Accounts screens: sign-in and sessions, phone enrolment and PIN unlock, user admin."""

from flask import Blueprint

bp = Blueprint("accounts", __name__, url_prefix="/accounts")

from . import auth, device, users  # noqa: E402,F401  (routes register on bp)
