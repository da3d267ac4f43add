"""Configuration read from the environment, with safe defaults.

Every setting can be overridden by an environment variable of the same name prefixed with
``DANTOC_`` (for example ``DANTOC_DATABASE_URL``). ``create_app(config)`` may pass a mapping
that wins over both, which is how the tests configure the app.
"""

from __future__ import annotations

import os
from datetime import timedelta

from .accounts.passwords import OWASP_MINIMUM, PRODUCTION_COST, Argon2Cost

#: Environments in which a missing SECRET_KEY is tolerated (a random one is generated).
DEV_ENVIRONMENTS = frozenset({"development", "testing"})


class ConfigError(RuntimeError):
    """Raised when the configuration is unsafe or incomplete."""


def _env(name: str, default: str | None = None) -> str | None:
    return os.environ.get(f"DANTOC_{name}", default)


def _env_int(name: str, default: int) -> int:
    value = _env(name)
    return int(value) if value not in (None, "") else default


def _env_bool(name: str, default: bool) -> bool:
    value = _env(name)
    if value in (None, ""):
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def normalise_database_url(url: str) -> str:
    """Use psycopg 3 for PostgreSQL URLs written the libpq way (``postgresql://``)."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def from_environment(instance_path: str) -> dict:
    """Build the configuration mapping from ``DANTOC_*`` environment variables."""
    env = _env("ENV", "production")
    database_url = _env("DATABASE_URL") or "sqlite:///" + os.path.join(
        instance_path, "dantoc.sqlite3"
    )
    production = env not in DEV_ENVIRONMENTS
    return {
        "ENV": env,
        "SECRET_KEY": _env("SECRET_KEY"),
        "SQLALCHEMY_DATABASE_URI": normalise_database_url(database_url),
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True},
        "SQLITE_BUSY_TIMEOUT_MS": _env_int("SQLITE_BUSY_TIMEOUT_MS", 30_000),
        "MAX_CONTENT_LENGTH": _env_int("MAX_CONTENT_LENGTH", 2 * 1024 * 1024),
        # The largest body an API write takes (docs/api.md §Writes).
        "API_MAX_BODY": _env_int("API_MAX_BODY", 1024 * 1024),
        "BABEL_DEFAULT_LOCALE": "vi",
        "BABEL_DEFAULT_TIMEZONE": _env("TIMEZONE", "Asia/Ho_Chi_Minh"),
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": _env_bool("SECURE_COOKIES", production),
        "SESSION_COOKIE_NAME": "__Host-session" if _env_bool("SECURE_COOKIES", production)
        else "session",
        "PERMANENT_SESSION_LIFETIME": timedelta(hours=_env_int("SESSION_HOURS", 12)),
        # The cookie is sent again when the session changes (its last-seen time, at most once
        # a minute: accounts/sessions.py), not with every answer: 0.4 KB less per page on 2G.
        "SESSION_REFRESH_EACH_REQUEST": False,
        "WTF_CSRF_TIME_LIMIT": _env_int("CSRF_TIME_LIMIT", 24 * 3600),
        "PAGE_SIZE": _env_int("PAGE_SIZE", 25),
        # Password and PIN hashing (Argon2id); below OWASP's minimum only in development and
        # testing (check()), where the tests use a cheap setting.
        **{key: _env_int(key, default) for key, default in PRODUCTION_COST.as_config().items()},
        "COMPRESS_ALGORITHM": ["br", "gzip"],
        # Dynamic pages are compressed on every response: Brotli quality 4 (gzip 6) takes
        # 0.2 ms for a 16 KB form page and gives 5.5 KB; quality 11 would give 4.6 KB for
        # 18 ms of CPU per page (docs/benchmarks.md). The static bundle is precompressed
        # at 11 once (pwa/assets.py) and passes through untouched.
        "COMPRESS_BR_LEVEL": 4,
        "COMPRESS_LEVEL": 6,
        "COMPRESS_MIN_SIZE": 256,
        "COMPRESS_MIMETYPES": [
            "text/html", "text/css", "text/javascript", "application/javascript",
            "application/json", "application/manifest+json", "image/svg+xml", "text/csv",
        ],
        "HSTS": production,
        "TRUSTED_PROXIES": _env_int("TRUSTED_PROXIES", 0),
        # Offline app (docs/offline.md): a file whose content is mixed into the service
        # worker's version, read on every request (write to it to ship a new worker), and the
        # kill switch that replaces the worker with one that removes itself and its caches.
        "SW_VERSION_FILE": _env("SW_VERSION_FILE"),
        "SW_KILL_SWITCH": _env_bool("SW_KILL_SWITCH", False),
        # Province/district reviewers also see village reports not yet approved (DHIS2 setting).
        "REVIEW_HIGHER_LEVELS_SEE_PENDING": _env_bool("REVIEW_HIGHER_LEVELS_SEE_PENDING", False),
        # Days after a period closes during which a commune may still send its first report.
        "REPORT_GRACE_DAYS": _env_int("REPORT_GRACE_DAYS", 30),
        # Four eyes (issue #14): an officer who typed a village's report in on its behalf may
        # not approve it too, unless the province allows one-person communes.
        "ONE_PERSON_COMMUNES": _env_bool("ONE_PERSON_COMMUNES", False),
        # Background jobs (docs/jobs.md): a worker that has not reported for this long is
        # taken for dead and its job is run again by another worker.
        "JOB_LEASE_SECONDS": _env_int("JOB_LEASE_SECONDS", 600),
        # Exports larger than these run as background jobs (docs/jobs.md): a biểu with more
        # units below that have their own report (a province's communes) than
        # EXPORT_BACKGROUND_UNITS, a lookup table with more cells than
        # EXPORT_BACKGROUND_CELLS. The file is kept EXPORT_KEEP_DAYS days for its owner.
        "EXPORT_BACKGROUND_UNITS": _env_int("EXPORT_BACKGROUND_UNITS", 20),
        "EXPORT_BACKGROUND_CELLS": _env_int("EXPORT_BACKGROUND_CELLS", 20_000),
        "EXPORT_KEEP_DAYS": _env_int("EXPORT_KEEP_DAYS", 7),
        # Reminders (docs/reminders.md).
        "REMINDERS_ENABLED": _env_bool("REMINDERS_ENABLED", True),
        "REMINDER_DAYS_BEFORE": _env_int("REMINDER_DAYS_BEFORE", 3),
        "REMINDER_QUIET_HOURS": _env("REMINDER_QUIET_HOURS", "21:00-07:00"),
        "REMINDER_PLAN_SECONDS": _env_int("REMINDER_PLAN_SECONDS", 600),
        "REMINDER_MAX_ATTEMPTS": _env_int("REMINDER_MAX_ATTEMPTS", 5),
        "REMINDER_BACKOFF_SECONDS": _env_int("REMINDER_BACKOFF_SECONDS", 60),
        "REMINDER_SEND_TIMEOUT": _env_int("REMINDER_SEND_TIMEOUT", 10),
        # A message claimed by a worker that has not finished sending it for this long is
        # taken back (the worker died) and sent again with the same idempotency key.
        "REMINDER_CLAIM_SECONDS": _env_int("REMINDER_CLAIM_SECONDS", 300),
        # SMS gateway: "esms" (eSMS.vn's REST API) or "" (SMS not sent, kept as pending).
        "SMS_GATEWAY": _env("SMS_GATEWAY", ""),
        "SMS_GATEWAY_URL": _env(
            "SMS_GATEWAY_URL",
            "https://rest.esms.vn/MainService.svc/json/SendMultipleMessage_V4_post_json/"),
        "SMS_API_KEY": _env("SMS_API_KEY", ""),
        "SMS_SECRET_KEY": _env("SMS_SECRET_KEY", ""),
        "SMS_BRANDNAME": _env("SMS_BRANDNAME", ""),
        # eSMS refuses a RequestId it accepted in the last 24 h: the codes it answers then
        # (from the account's error table) mean "already sent", not a failure.
        "SMS_ALREADY_SENT_CODES": _env("SMS_ALREADY_SENT_CODES", ""),
        # eSMS remembers a RequestId for 24 hours: a message handed over longer ago than this
        # by a worker that died is not sent again (docs/reminders.md).
        "SMS_DEDUPE_HOURS": _env_int("SMS_DEDUPE_HOURS", 23),
        # E-mail to officers over SMTP; no host: e-mail is not sent (kept as pending).
        "SMTP_HOST": _env("SMTP_HOST", ""),
        "SMTP_PORT": _env_int("SMTP_PORT", 25),
        "SMTP_STARTTLS": _env_bool("SMTP_STARTTLS", False),
        "SMTP_USERNAME": _env("SMTP_USERNAME", ""),
        "SMTP_PASSWORD": _env("SMTP_PASSWORD", ""),
        "MAIL_FROM": _env("MAIL_FROM", "dantoc@localhost"),
        # Document library (dantoc/documents): the agency named on the public home page, the
        # largest attachment accepted, and where attachments are kept (default: instance/).
        "AGENCY_NAME": _env("AGENCY_NAME", "Sở Dân tộc và Tôn giáo tỉnh Lai Châu"),
        "DOCUMENT_MAX_BYTES": _env_int("DOCUMENT_MAX_BYTES", 20 * 1024 * 1024),
        "DOCUMENT_STORAGE": _env("DOCUMENT_STORAGE"),
        # Requests per API client (its token), e.g. "600 per minute" (docs/api.md).
        "API_LIMIT_CLIENT": _env("API_LIMIT_CLIENT", "600 per minute"),
        # Synchronisation with the centre (docs/deployment.md §Synchronisation): its base
        # address and this instance's API token there, read by flask sync pull / push (the
        # systemd timer) and named on the sync screen; seconds per request.
        "SYNC_PEER": _env("SYNC_PEER", ""),
        "SYNC_TOKEN": _env("SYNC_TOKEN", ""),
        "SYNC_TIMEOUT": _env_int("SYNC_TIMEOUT", 30),
        # Public statistics (docs/statistics.md): a count below this shows as "<5".
        "SUPPRESSION_THRESHOLD": _env_int("SUPPRESSION_THRESHOLD", 5),
    }


def check(config: dict) -> None:
    """Refuse to start with unsafe settings outside development and testing.

    :raise ConfigError: when ``SECRET_KEY`` is missing in production, or the Argon2 cost is
        below OWASP's minimum there (a test setting that leaked into production).
    """
    cost = Argon2Cost.from_config(config)
    if cost.weaker_than(OWASP_MINIMUM) and config.get("ENV") not in DEV_ENVIRONMENTS:
        raise ConfigError(
            f"The Argon2 cost {tuple(cost)} (DANTOC_ARGON2_MEMORY_KIB, _TIME_COST, "
            f"_PARALLELISM) is below OWASP's minimum {tuple(OWASP_MINIMUM)}: such cheap "
            "hashes are for tests only. Unset these variables to use the default "
            f"{tuple(PRODUCTION_COST)}, or set DANTOC_ENV=development for a local run."
        )
    if not config.get("SECRET_KEY"):
        if config.get("ENV") not in DEV_ENVIRONMENTS:
            raise ConfigError(
                "DANTOC_SECRET_KEY is not set. Set it to a long random value "
                "(python -c 'import secrets; print(secrets.token_hex(32))'), "
                "or set DANTOC_ENV=development for a local run."
            )
        config["SECRET_KEY"] = os.urandom(32).hex()
