"""How the application refuses: one catalogue of error codes, and one way to answer.

Every refusal has a stable string code (``docs/errors.md`` lists them, like ODK Central's
numbered problems): the catalogue gives its HTTP status and a localized message that says
what happened and what to do; nothing about the internals leaks (ASVS 16.5.1). A refusal is
answered in the form the request wants (:func:`refuse`):

- a JSON client (an ``/api/`` path, or one that prefers JSON to HTML explicitly: the
  phone's outbox) gets ``application/problem+json`` (RFC 9457): ``type``, ``title``,
  ``status``, ``detail`` and ``code``, plus any extension members of the refusal;
- a browser gets the page it was on with the message (or, for an in-page htmx swap, the
  fragment), or the shared error page when the view has no page to show.

For clients written against the first JSON shape, the body also repeats ``code``,
``detail`` (as ``message``) and the extension members under ``error``; new clients read the
top-level members.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask import Flask, Response, jsonify, make_response, render_template
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from ..refusal import Refusal
from .htmx import wants_fragment, wants_json

PROBLEM_TYPE = "tag:dantoc,2025:error:"
MEDIA_TYPE = "application/problem+json"


@dataclass(frozen=True)
class Problem:
    """One entry of the catalogue: a code, its HTTP status, a short title, a message."""

    code: str
    status: int
    title: Any
    message: Any


CATALOGUE: dict[str, Problem] = {p.code: p for p in (
    Problem("bad_request", 400, _l("Bad request"),
            _l("The request could not be understood. Please check what you entered.")),
    Problem("bad_characters", 400, _l("Characters not allowed"),
            _l("What you sent contains control characters (such as NUL) that cannot be "
               "stored. Please remove them, or type the text again, and resend.")),
    Problem("csrf", 400, _l("Form expired"),
            _l("Your form expired. Please reload the page and try again.")),
    Problem("bad_cursor", 400, _l("Bad page link"),
            _l("This page link does not belong to this list. Start again from the first "
               "page.")),
    Problem("bad_token", 401, _l("Token not accepted"),
            _l("The API token is missing, wrong or revoked. Ask the administrator for a "
               "valid token.")),
    Problem("signed_out", 401, _l("Signed out"), _l("Please sign in.")),
    Problem("no_authority", 403, _l("Not allowed"),
            _l("You do not have permission to do this.")),
    Problem("not_found", 404, _l("Not found"), _l("This page does not exist.")),
    Problem("method_not_allowed", 405, _l("Not allowed here"),
            _l("This action is not allowed here.")),
    Problem("stale", 409, _l("Changed meanwhile"),
            _l("Someone else acted on this report, or it changed, after you opened it. "
               "Nothing was changed: check its current state below.")),
    Problem("invalid_transition", 409, _l("Not possible now"),
            _l("This action is not possible in the report's current state. Nothing was "
               "changed.")),
    Problem("locked", 409, _l("Locked"),
            _l("This report is locked: nothing was changed.")),
    Problem("national_record", 409, _l("Kept by the centre"),
            _l("This record comes from the centre's system and is read-only here: it changes "
               "only when the centre changes it, through synchronisation. Nothing was "
               "changed.")),
    Problem("already_started", 409, _l("Already started"),
            _l("This form was already started for this village on another phone or tab. "
               "Nothing was changed: open the form again to continue from the saved copy.")),
    Problem("in_flight", 409, _l("Being saved"),
            _l("The same report is being saved right now. Wait a moment and try again.")),
    Problem("too_large", 413, _l("Too large"), _l("What you sent is too large.")),
    Problem("invalid", 422, _l("Check your input"), _l("Some answers need to be fixed.")),
    Problem("reason_required", 422, _l("Reason needed"),
            _l("Please say why: the reason is kept with the report and shown to the people "
               "concerned.")),
    Problem("reason_too_long", 422, _l("Reason too long"),
            _l("The reason is too long. Please shorten it.")),
    Problem("uuid_conflict", 422, _l("Sent before with other answers"),
            _l("This copy of the form was already sent with different answers. Nothing was "
               "changed. Open the form again to see what was received.")),
    Problem("idempotency_key_reused", 422, _l("Key used for another request"),
            _l("This Idempotency-Key was already used for a different request. Nothing was "
               "changed: send a new key for a new request.")),
    Problem("unknown_reference", 422, _l("Unknown here"),
            _l("What you sent refers to something this server does not know (a form "
               "version, a unit, a period, an indicator). Nothing was changed.")),
    Problem("unknown_data_element", 422, _l("Unknown data element"),
            _l("A data element or category option combination has no mapping here. Nothing "
               "was changed.")),
    Problem("pending", 422, _l("Units not approved"),
            _l("Nothing was submitted: some units below are not approved yet.")),
    Problem("too_many_requests", 429, _l("Too many attempts"),
            _l("Too many attempts. Please wait a little and try again.")),
    Problem("throttle_unavailable", 503, _l("Temporarily unavailable"),
            _l("Signing in is temporarily unavailable: the server cannot count attempts right "
               "now. Please try again in a few minutes.")),
    Problem("server_error", 500, _l("Server error"),
            _l("Something went wrong on our side. Nothing was saved; please try again.")),
)}
#: The code of an HTTP error raised outside a refusal (``abort(404)``, a routing error).
BY_STATUS = {400: "bad_request", 401: "signed_out", 403: "no_authority", 404: "not_found",
             405: "method_not_allowed", 409: "stale", 413: "too_large", 422: "invalid",
             429: "too_many_requests", 500: "server_error", 503: "throttle_unavailable"}


def status_of(code: str) -> int:
    """The HTTP status of a catalogue code."""
    return CATALOGUE[code].status


def message_of(code: str) -> str:
    """The catalogue's localized message of ``code``."""
    return str(CATALOGUE[code].message)


def code_for(status: int) -> str:
    """The catalogue code for an HTTP status (another 4xx reads as a bad request)."""
    return BY_STATUS.get(status) or ("bad_request" if status < 500 else "server_error")


def problem_json(code: str, detail: Any = None, status: int | None = None,
                 **members: Any) -> Response:
    """An ``application/problem+json`` response for ``code`` (RFC 9457)."""
    problem = CATALOGUE[code]
    detail = str(detail) if detail is not None else message_of(code)
    status = status or problem.status
    response = jsonify(type=PROBLEM_TYPE + code, title=str(problem.title), status=status,
                       detail=detail, code=code, **members,
                       error={"code": code, "message": detail, **members})
    response.status_code = status
    response.mimetype = MEDIA_TYPE
    return response


def refuse(code: str, detail: Any = None, *, html: Callable[[], Any] | None = None,
           status: int | None = None, **members: Any):
    """Answer a refusal in the form the request wants (see the module docstring).

    :param code: a catalogue code; it gives the status unless ``status`` is given.
    :param detail: the localized message (default: the catalogue's).
    :param html: renders the browser's answer (the page the user was on, with ``detail``
        shown, or its fragment); default: the shared error page or fragment.
    :param members: extension members of the JSON answer (``current_version``, ``fields``).
    :return: (body, status) for a view to return.
    """
    status = status or CATALOGUE[code].status
    if wants_json():
        return problem_json(code, detail, status, **members), status
    if html is not None:
        return html(), status
    message = str(detail) if detail is not None else message_of(code)
    template = "errors/_error.html" if wants_fragment() else "errors/error.html"
    return render_template(template, status=status, code=code, message=message), status


def init_app(app: Flask) -> None:
    @app.errorhandler(CSRFError)
    def _csrf(error):  # a stable code: the phone's outbox renews its token and resends
        return refuse("csrf")

    @app.errorhandler(Refusal)
    def _refused(error: Refusal):  # a refusal no view caught: its answer, never a 500
        from ..extensions import db

        db.session.rollback()
        return refuse(error.code, error.message)

    @app.errorhandler(HTTPException)
    def _http(error: HTTPException):
        status = error.code or 500
        body, status = refuse(code_for(status), status=status)
        allowed = getattr(error, "valid_methods", None)
        if status == 405 and allowed:  # RFC 9110 §15.5.6: a 405 lists what is allowed
            body = make_response(body, status)
            body.headers["Allow"] = ", ".join(sorted(allowed))
        return body, status

    @app.errorhandler(Exception)
    def _unexpected(error: Exception):
        from ..extensions import db

        db.session.rollback()
        app.logger.exception("unhandled error", exc_info=error)
        return refuse("server_error")
