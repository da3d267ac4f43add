"""dantoc: information system for ethnic-affairs work in a Vietnamese province."""

from __future__ import annotations

import os
from collections.abc import Mapping

from flask import Flask

from .paths import ROOT

__all__ = ["ROOT", "create_app", "warm"]


def create_app(config: Mapping | None = None) -> Flask:
    """Create and configure an application. No I/O beyond reading configuration.

    :param config: settings that override the environment (used by the tests).
    """
    from . import config as config_module

    app = Flask(
        __name__,
        instance_relative_config=True,
        template_folder=str(ROOT / "templates"),
        static_folder=str(ROOT / "static"),
    )
    app.config.from_mapping(config_module.from_environment(app.instance_path))
    if config:
        app.config.from_mapping(config)
    config_module.check(app.config)
    app.config.setdefault("BABEL_TRANSLATION_DIRECTORIES", str(ROOT / "translations"))
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite:///" + app.instance_path):
        os.makedirs(app.instance_path, exist_ok=True)

    _init_extensions(app)
    _register_blueprints(app)
    _trust_proxies(app)
    return app


def warm(app: Flask) -> None:
    """Compile the templates and load the file-only interface catalogs and locale data in
    this process: gunicorn calls it in the master of a preloaded application
    (``gunicorn.conf.py``), so that every worker forked from it, a recycled one too, starts
    with them (a worker's first form page took about 0.15 s of CPU more than the next)."""
    from . import i18n
    from .web import templating

    templating.precompile(app)
    i18n.warm(app)


def _trust_proxies(app: Flask) -> None:
    """Behind nginx, take the client address and scheme from ``X-Forwarded-*`` headers set by
    ``DANTOC_TRUSTED_PROXIES`` proxies, so that audit rows and per-IP rate limits see the real
    phone, not 127.0.0.1. Off by default: trusting headers nobody strips is a spoofing hole."""
    hops = int(app.config.get("TRUSTED_PROXIES") or 0)
    if hops:
        from werkzeug.middleware.proxy_fix import ProxyFix

        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)


def _init_extensions(app: Flask) -> None:
    from . import chrome, database, i18n, models  # noqa: F401  (models: the whole schema, for Alembic)
    from .accounts import ratelimit
    from .accounts import sessions as accounts_sessions
    from .extensions import compress, csrf, db, htmx, login_manager, migrate
    from .web import assets, errors, inputs, kept, security, templating

    inputs.register_converters(app)  # before any route is added
    assets.init_app(app)
    db.init_app(app)
    database.init_app(app)
    migrate.init_app(app, db, directory=str(ROOT / "migrations"), render_as_batch=True,
                     compare_type=True)
    i18n.init_app(app)
    htmx.init_app(app)
    csrf.init_app(app)
    compress.init_app(app)
    login_manager.init_app(app)
    login_manager.login_view = "accounts.login"
    login_manager.login_message = None
    accounts_sessions.init_app(app)
    ratelimit.init_app(app)
    templating.init_app(app, **_template_globals())
    kept.init_app(app, parts=chrome.PARTS, variant=chrome.variant, values=chrome.VALUES)
    security.init_app(app)
    errors.init_app(app)
    inputs.init_app(app)


def _template_globals() -> dict:
    """What every template may use besides its view's context: the permission check, the
    closed sets of state names (templates compare with these, never with string literals),
    the labels of stored codes (``breakdown``, ``answer``: people never read a code) and
    whether a record is the centre's (``national``: read-only here)."""
    from .accounts.permissions import can
    from .exchange import states as received_states
    from .indicators.models import FormStatus
    from .jobs import models as job_states
    from .reminders import models as reminder_states
    from .reports import states as report_states
    from .submissions import labels
    from .submissions import states as submission_states
    from .sync.origin import LOCAL_PREFIX, is_province, national
    from .workflow import Lock

    return {"can": can, "submission_states": submission_states,
            "report_states": report_states, "locks": Lock,
            "form_status": FormStatus, "breakdown": labels.breakdown, "answer": labels.answer,
            "job_states": job_states, "reminder_states": reminder_states,
            "received_states": received_states, "national": national,
            "is_province": is_province, "local_prefix": LOCAL_PREFIX}


def _register_blueprints(app: Flask) -> None:
    from . import cli
    from .accounts.permissions import landing
    from .accounts.views import bp as accounts_bp
    from .api.admin import bp as api_clients_bp
    from .api.exchange import bp as api_exchange_bp
    from .api.views import bp as api_bp
    from .audit.views import bp as audit_bp
    from .catalogs.views import bp as catalogs_bp
    from .documents.views import bp as documents_bp
    from .documents.views import home_page
    from .exchange.views import bp as exchange_bp
    from .i18n.views import bp as i18n_bp
    from .indicators.views import bp as indicators_bp
    from .jobs.views import bp as jobs_bp
    from .lookup.views import bp as lookup_bp
    from .pwa.views import bp as pwa_bp
    from .reminders.views import bp as reminders_bp
    from .reports.views import bp as reports_bp
    from .review.views import bp as review_bp
    from .statistics.views import bp as statistics_bp
    from .submissions.views import bp as submissions_bp
    from .sync.views import bp as sync_bp
    from .web import views as web_views

    web_views.init_app(app, landing=landing, home=home_page)
    for blueprint in (accounts_bp, catalogs_bp, indicators_bp, i18n_bp, pwa_bp,
                      audit_bp, submissions_bp, review_bp, reports_bp, lookup_bp, jobs_bp,
                      reminders_bp, documents_bp, api_bp, api_exchange_bp, api_clients_bp,
                      statistics_bp, sync_bp, exchange_bp):
        app.register_blueprint(blueprint)
    cli.init_app(app)
