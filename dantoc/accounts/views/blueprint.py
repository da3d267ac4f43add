"""The accounts blueprint: its view modules (:mod:`.auth`, :mod:`.device`, :mod:`.users`)
attach their routes to it; :mod:`dantoc.accounts.views` imports them all."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("accounts", __name__, url_prefix="/accounts")
