"""The reminders page: what was sent to the villages in one's area, and what failed."""

from __future__ import annotations

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask import Blueprint
from flask_login import current_user

from ..accounts.permissions import in_scope, require
from ..extensions import db
from ..web.htmx import render
from .models import FAILED, Reminder, ReminderMessage

bp = Blueprint("reminders", __name__, url_prefix="/reminders")


@bp.route("/")
@require("report.view")
def index():
    """The latest reminder messages of the viewer's area, the failed ones first."""
    rows = db.session.scalars(
        sa.select(ReminderMessage).join(Reminder)
        .options(so.joinedload(ReminderMessage.reminder).joinedload(Reminder.unit),
                 so.joinedload(ReminderMessage.user))
        .order_by((ReminderMessage.state == FAILED).desc(), ReminderMessage.id.desc())
        .limit(500))
    messages = [m for m in rows if in_scope(current_user, m.reminder.unit)][:200]
    return render("reminders/index.html", messages=messages)
