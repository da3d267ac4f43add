"""Bearer-token authentication of API requests, and the client's rate limit.

An API request is authorised by its token only: the API never reads the session cookie,
so a browser session never authorises an API call, and a token never opens an HTML page
(the HTML views use Flask-Login, which ignores the ``Authorization`` header). Because no
cookie ever authenticates an API request, cross-site request forgery has nothing to ride
on; CSRF protection stays on for every other route.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from types import SimpleNamespace

from flask import current_app, g, request
from flask_babel import gettext as _

from .. import clock
from ..accounts.passwords import sha256
from ..accounts.permissions import VERBS, can
from ..accounts.ratelimit import Limit, rate_check
from ..audit import services as audit
from ..extensions import db
from ..web.errors import refuse
from .clients import client_for_token
from .models import ApiClient

#: ``last_used_at`` is written at most this often per client (a write per call is waste).
TOUCH_SECONDS = 300


def bearer_token() -> str | None:
    """The token of an ``Authorization: Bearer …`` header, or None."""
    scheme, _sep, token = request.headers.get("Authorization", "").partition(" ")
    token = token.strip()
    return token if scheme.lower() == "bearer" and token else None


def current_client() -> ApiClient | None:
    """The client that made this request (after :func:`require_token` let it through)."""
    return g.get("api_client")


def actor(client: ApiClient) -> SimpleNamespace:
    """How the audit trail names a client: ``api:NAME`` with its role, no user id."""
    return SimpleNamespace(id=None, username=client.username, role_code=client.role_code)


def _challenge(response, error: str | None = None):
    body, status = response
    value = 'Bearer realm="dantoc-api"' + (f', error="{error}"' if error else "")
    body.headers["WWW-Authenticate"] = value
    return body, status


def _touch(client: ApiClient) -> None:
    now = clock.now()
    last = client.last_used_at
    if last is not None and last.tzinfo is None:
        last = last.replace(tzinfo=now.tzinfo)
    if last is None or (now - last).total_seconds() > TOUCH_SECONDS:
        client.last_used_at = now
        db.session.commit()


def _denied(client: ApiClient, verb: str):
    db.session.rollback()
    audit.record("authz.denied", client, actor=actor(client), after={
        "verb": verb, "method": request.method, "path": request.path[:200]})
    db.session.commit()
    current_app.logger.warning("API authorization denied: %s %s %s for %s", verb,
                               request.method, request.path, client.username)
    g._denial_logged = True
    return _challenge(refuse("no_authority", _("This API client may not use this service.")),
                      "insufficient_scope")


def _token_client() -> tuple[ApiClient | None, tuple | None]:
    """(the client whose token this request sends, None), or (None, the 401 answer) for a
    token missing, wrong or revoked: what every API view asks first, whatever its access."""
    token = bearer_token()
    client = client_for_token(token)
    if client is None:
        return None, _challenge(refuse("bad_token"), "invalid_token" if token else None)
    return client, None


def _admit(client: ApiClient) -> None:
    """Let ``client`` through: the view finds it with :func:`current_client`."""
    g.api_client = client
    _touch(client)


def require_token(verb: str) -> Callable:
    """Decorator for API views: 401 ``bad_token`` without a valid token, 403 without
    ``verb`` (the client's role's verbs, through ``can()``)."""
    if verb not in VERBS:
        raise ValueError(f"unknown verb {verb!r}")

    def decorator(view: Callable) -> Callable:
        @wraps(view)
        def wrapper(*args, **kwargs):
            client, refused = _token_client()
            if refused is not None:
                return refused
            if not can(client, verb):
                return _denied(client, verb)
            _admit(client)
            return view(*args, **kwargs)

        wrapper._access = "token"
        wrapper._required_verb = verb
        return wrapper

    return decorator


def open_data(view: Callable) -> Callable:
    """Decorator for the open-data reads: no token needed (the view is public for the
    authorization matrix). A request that sends a token must send a valid one (401
    otherwise, so that a client notices its revoked token); the view may then show more to
    a client with the right verb (:func:`client_may`)."""

    @wraps(view)
    def wrapper(*args, **kwargs):
        if request.headers.get("Authorization") is not None:
            client, refused = _token_client()
            if refused is not None:
                return refused
            _admit(client)
        return view(*args, **kwargs)

    wrapper._access = "public"
    wrapper._required_verb = None
    return wrapper


def client_may(verb: str) -> bool:
    """Whether this request's client (if it sent a valid token) has ``verb``."""
    if verb not in VERBS:
        raise ValueError(f"unknown verb {verb!r}")
    client = current_client()
    return client is not None and can(client, verb)


def limit_key() -> str:
    """Rate-limit key: the token (so each client has its own budget), else the address."""
    token = bearer_token()
    return "api:" + sha256(token) if token else "api-ip:" + (request.remote_addr or "")


#: Each client's budget of requests (``DANTOC_API_LIMIT_CLIENT``), counted in the shared
#: throttle store (the database, or Redis), so it holds across workers and servers.
API_LIMIT = Limit("api-client", "API_LIMIT_CLIENT", limit_key)


def client_limit(blueprint) -> None:
    """Every request of ``blueprint`` counts against its client's budget."""
    blueprint.before_request(lambda: rate_check(API_LIMIT))
