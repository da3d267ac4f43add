"""Localised words for received reports: their states, where they came from, refusals."""

from __future__ import annotations

from flask_babel import gettext as _

from ..refusal import Refusal
from ..web.errors import message_of
from . import states


def state_labels() -> dict[str, str]:
    """Received-report state → label."""
    return {
        states.RECEIVED: _("Received"),
        states.DRAFT: _("Awaiting review"),
        states.REJECTED: _("Rejected"),
    }


def origin_labels() -> dict[str, str]:
    """Where a received report came from → words."""
    return {
        states.PUSH: _("Approved report sent up by a province"),
        states.DHIS2: _("Values imported from DHIS2"),
    }


def refusal(error: Refusal) -> str:
    """The message for a refused decision; nothing was changed in every case."""
    if error.code == "reason_required":
        return _("Please say why the values are rejected: the reason is kept with them.")
    if error.code == "stale":
        return _("Someone else decided on these values, or they changed, after you opened "
                 "the page. Nothing was changed: check their current state below.")
    if error.code == "invalid_transition":
        return _("These values were already decided on. Nothing was changed.")
    return message_of(error.code)
