"""What the server benchmarks share: a database with village heads and open periods, signed
session cookies (no password hashing in the measured path), and the body of a submit.

The database is demo data plus ``flask demo scale --villages N --heads --empty``: N sample
villages, each with its village head, and 12 monthly periods open today with nothing
submitted, so every (village, period) pair can take one real submit.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import uuid
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FLASK = [sys.executable, "-m", "flask", "--app", "wsgi"]
SECRET = "benchmark-secret-key-not-for-production-0123456789abcdef"  # noqa: S105
FORM = "LC-DEMO-SCALE"


def environment(url: str) -> dict[str, str]:
    env = dict(os.environ, DANTOC_DATABASE_URL=url, DANTOC_SECRET_KEY=SECRET,
               DANTOC_ENV="development")
    return env


def prepare(url: str, villages: int) -> None:
    """Migrate, load the reference catalogs and the demo, and generate the villages."""
    env = environment(url)
    for args in (["db", "upgrade"], ["seed-reference"], ["seed-demo"],
                 ["demo", "scale", "--villages", str(villages), "--heads", "--empty"]):
        subprocess.run(FLASK + args, cwd=ROOT, env=env, check=True, capture_output=True)


def reset_postgresql(url: str) -> None:
    """Drop and create the benchmark's own PostgreSQL database (never the test one)."""
    import psycopg

    base, _slash, name = url.rpartition("/")
    with psycopg.connect(base.replace("postgresql+psycopg", "postgresql") + "/postgres",
                         autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')


@dataclass
class Head:
    """A village head with a signed session cookie and a CSRF token."""

    unit_id: int
    cookie: str
    csrf: str


@dataclass
class Target:
    periods: list[str]
    heads: list[Head]
    cookie_name: str
    #: indicator code → field name, and the form's value types.
    fields: dict[str, tuple[str, str]]


def targets(url: str) -> Target:
    """Sign every generated village head in (cookies minted with the app's own serializer)."""
    os.environ.update(environment(url))
    import sqlalchemy as sa
    from flask import g, session
    from flask_wtf.csrf import generate_csrf

    from dantoc import create_app
    from dantoc.accounts import sessions
    from dantoc.accounts.models import User
    from dantoc.extensions import db
    from dantoc.indicators.models import Form, Period

    app = create_app()
    heads = []
    with app.app_context():
        serializer = app.session_interface.get_signing_serializer(app)
        form = db.session.scalar(sa.select(Form).where(Form.code == FORM))
        version = form.versions[-1]
        fields = {item.indicator.code: (f"v{item.indicator_id}", item.indicator.value_type)
                  for section in version.sections for item in section.items}
        periods = list(db.session.scalars(sa.select(Period.code).where(
            Period.period_type == "month").order_by(Period.code)))
        users = db.session.scalars(sa.select(User).where(User.username.like("scale-head-%"))
                                   .order_by(User.id))
        for user in users:
            with app.test_request_context():
                g.pop("csrf_token", None)  # the app context (and g) outlives each request
                sessions.start(user)
                csrf = generate_csrf()
                heads.append(Head(user.unit_id, serializer.dumps(dict(session)), csrf))
        name = app.config["SESSION_COOKIE_NAME"]
    return Target(periods, heads, name, fields)


def body(target: Target, head: Head, key: uuid.UUID | None = None) -> dict[str, str]:
    """A valid submit of the scale form: the usual answers, one ethnic group's two cells."""
    answers = {"households": "120", "poor_households": "30", "near_poor_households": "12",
               "households_with_power": "110", "households_with_clean_water": "90",
               "households_with_phone": "100", "households_with_internet": "40",
               "distance_to_commune_km": "7,5", "religious_followers": "50",
               "security_incidents": "0", "road_hardened": "1", "has_school": "0",
               "has_cultural_house": "1", "health_access": "under_5km"}
    data = {"csrf_token": head.csrf, "uuid": str(key or uuid.uuid4()), "base_version": "0",
            "action": "submit"}
    for code, (name, _kind) in target.fields.items():
        if code == "population":
            data[f"{name}_10_0"], data[f"{name}_10_1"] = "250", "240"
        elif code in answers:
            data[name] = answers[code]
    return data


def keep_cookie(target: Target, head: Head, set_cookie: str) -> None:
    """Keep the session cookie of a ``Set-Cookie`` header for the head's next requests, as a
    browser does (the server renews it when the session changes)."""
    name, _eq, rest = set_cookie.partition("=")
    if name.strip() == target.cookie_name:
        head.cookie = rest.partition(";")[0]


def form_path(unit_id: int, period: str) -> str:
    return f"/entry/{unit_id}/{FORM}/{period}"


RECEIPT = re.compile(r"/entry/receipt/[0-9a-f-]{36}")


def session_cookie(app, username: str) -> str:
    """A signed session cookie for ``username``, as a sign-in would set it (no password hash
    to pay for in a benchmark)."""
    import sqlalchemy as sa
    from flask import g, session

    from dantoc.accounts import sessions
    from dantoc.accounts.models import User
    from dantoc.extensions import db

    user = db.session.scalar(sa.select(User).where(User.username == username))
    with app.test_request_context():
        g.pop("csrf_token", None)
        sessions.start(user)
        return app.session_interface.get_signing_serializer(app).dumps(dict(session))
