"""Command-line tasks: ``flask --app wsgi <command>``.

``flask db upgrade`` (Flask-Migrate) builds the schema; the commands below fill it.
"""

from __future__ import annotations

import os

import click
from flask import Flask
from flask.cli import AppGroup

from .extensions import db


@click.command("seed-reference")
def seed_reference() -> None:
    """Load roles and the reference catalogs (ethnic groups, religions, Lai Châu units)."""
    from .accounts.services import seed_roles
    from .catalogs.reference import load_reference

    seed_roles()
    counts = load_reference()
    db.session.commit()
    for name, count in counts.items():
        click.echo(f"{name}: {count}")


@click.command("seed-demo")
@click.option("--history/--no-history", default=True, show_default=True,
              help="Also write approved figures of past periods (2024 on the old units, "
                   "2025–2026 on today's) and publish the newest quarter's.")
def seed_demo(history: bool) -> None:
    """Load clearly marked sample data (villages, questionnaire, periods, demo accounts, and
    approved figures of past periods)."""
    from .demo import seed, seed_history
    from .demo.api_client import seed_api_client

    sign_ins = seed()
    if history:  # (the browser tests start from the current periods alone: --no-history)
        seed_history()
    name, token = seed_api_client()
    db.session.commit()
    print_sign_ins(sign_ins)
    base = "http://" + os.environ.get("GUNICORN_BIND", "127.0.0.1:5000")
    click.echo(f"\nDemo API client {name!r} (sample, never use in production); catalogs are "
               f"open data, approved reports need the token:\n"
               f"  curl {base}/api/v1/religions\n"
               f"  curl -H 'Authorization: Bearer {token}' {base}/api/v1/reports")


@click.group("demo")
def demo() -> None:
    """Sample data beyond the demo: generated data at scale for benchmarks."""


@demo.command("scale")
@click.option("--villages", default=10_000, show_default=True, help="Villages to add.")
@click.option("--periods", default=12, show_default=True, help="Monthly periods.")
@click.option("--indicators", default=15, show_default=True, help="Indicators on the form.")
@click.option("--seed", default=1, show_default=True, help="Random seed.")
@click.option("--heads", is_flag=True, help="A village head account per generated village.")
@click.option("--empty", is_flag=True, help="No submissions; every period open today.")
def demo_scale(villages: int, periods: int, indicators: int, seed: int, heads: bool,
               empty: bool) -> None:
    """Generate villages, a monthly form and ~92 % approved submissions (after seed-demo)."""
    import time

    from .demo.scale import Plan, ScaleError, generate

    started = time.perf_counter()
    try:
        counts = generate(Plan(villages, periods, indicators, seed, heads, empty))
        db.session.commit()
    except ScaleError as error:
        db.session.rollback()
        raise click.ClickException(str(error)) from None
    for name, count in counts.items():
        click.echo(f"{name}: {count}")
    click.echo(f"done in {time.perf_counter() - started:.1f} s")


def print_sign_ins(sign_ins: list[tuple[str, str, str]]) -> None:
    if not sign_ins:
        return
    click.echo("\nDemo sign-ins (sample accounts, never use in production):")
    width = max(28, *(len(role) for role, _username, _password in sign_ins))
    for role, username, password in sign_ins:
        click.echo(f"  {role:<{width}} {username:<22} {password}")


@click.command("import-catalog")
@click.argument("kind", type=click.Choice(["units", "ethnic_groups", "religions"]))
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
def import_catalog(kind: str, path: str) -> None:
    """Import a catalog from a CSV or XLSX file (all rows or none)."""
    from .catalogs.importer import ImportRefused, import_file

    try:
        with open(path, "rb") as stream:
            result = import_file(kind, stream, filename=path)
        db.session.commit()
    except ImportRefused as refused:
        db.session.rollback()
        for error in refused.errors:
            click.echo(str(error), err=True)
        raise SystemExit(1) from None
    click.echo(f"imported {result.created} new and {result.updated} updated rows")


audit_cli = AppGroup("audit", help="The audit trail.")


@audit_cli.command("verify")
def audit_verify() -> None:
    """Check the audit trail's hash chain; report the first broken or missing link."""
    from .audit.chain import verify

    verdict = verify()
    if verdict.ok:
        click.echo(f"audit chain intact: {verdict.links} links, head {verdict.head}")
        return
    click.echo(f"audit chain BROKEN: {verdict.problem} "
               f"(the first {verdict.links} links are intact, up to {verdict.head})", err=True)
    raise SystemExit(1)


rollups_cli = AppGroup("rollups", help="The communes' rollups of approved village values, "
                                       "which the province's lookup and dashboards read.")


@rollups_cli.command("rebuild")
def rollups_rebuild() -> None:
    """Recompute every commune's rollups from the approved village values (set-based): the
    repair when the table was changed by hand or restored apart from the values."""
    from .audit import services as audit
    from .submissions import rollups

    rows = rollups.rebuild()
    audit.record("rollups.rebuild", after={"rows": rows})
    db.session.commit()
    click.echo(f"commune_rollups: {rows} rows rebuilt from the approved values")


@rollups_cli.command("check")
def rollups_check() -> None:
    """Compare the rollups with a fresh GROUP BY of the approved village values; exit 1 and
    list the first differences when they disagree."""
    from .submissions import rollups

    wrong = rollups.differences()
    if not wrong:
        click.echo("commune_rollups: equal to the approved village values")
        return
    click.echo(f"commune_rollups: {len(wrong)} rows differ from the approved village values "
               "(period, commune, indicator, disaggregation); run flask rollups rebuild",
               err=True)
    for key in wrong[:20]:
        click.echo(f"  {key}", err=True)
    raise SystemExit(1)


#: What the application's PostgreSQL role may do (docs/deployment.md §1): read and write the
#: tables, except the audit trail, which it may only read and append to; it owns nothing, so
#: it cannot ALTER or DROP a table or switch a trigger off.
APP_ROLE_GRANTS = (
    "GRANT USAGE ON SCHEMA public TO {role}",
    "GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {role}",
    "REVOKE UPDATE, DELETE, TRUNCATE ON audit_events FROM {role}",
    "REVOKE INSERT, UPDATE, DELETE ON alembic_version FROM {role}",
    "GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {role}",
)


@click.command("grant-app-role")
@click.argument("role")
def grant_app_role(role: str) -> None:
    """PostgreSQL: give ROLE (the role the app connects as) what it needs and no more. Run as
    the owner, after every ``flask db upgrade`` (new tables need their grants)."""
    import re

    if db.engine.dialect.name != "postgresql":
        raise click.UsageError("roles exist on PostgreSQL only")
    if not re.fullmatch(r"[a-z_][a-z0-9_]{0,62}", role):
        raise click.BadParameter("a role name: lower-case letters, digits and _", param_hint="ROLE")
    with db.engine.begin() as connection:
        for statement in APP_ROLE_GRANTS:
            connection.exec_driver_sql(statement.format(role=role))
    click.echo(f"{role}: SELECT, INSERT, UPDATE, DELETE on the tables; SELECT, INSERT only on "
               "audit_events")


def init_app(app: Flask) -> None:
    from .api.cli import api_group
    from .exchange.cli import dhis2_group
    from .i18n.cli import translate
    from .jobs.cli import jobs_cli
    from .reminders.cli import reminders_cli
    from .sync.cli import sync_group

    for command in (seed_reference, seed_demo, demo, import_catalog, translate, jobs_cli,
                    reminders_cli, api_group, sync_group, dhis2_group, audit_cli,
                    rollups_cli, grant_app_role):
        app.cli.add_command(command)
