"""``flask api …``: machine accounts from the command line (the admin screens: :mod:`.admin`)."""

from __future__ import annotations

import click

from ..extensions import db
from ..refusal import FieldError
from . import clients


@click.group("api")
def api_group() -> None:
    """API clients (machine accounts)."""


@api_group.command("create-client")
@click.argument("name")
@click.option("--role", default=clients.DEFAULT_ROLE, show_default=True,
              help="The role whose verbs the client gets.")
@click.option("--unit", "unit_code", default=None, metavar="CODE",
              help="Bind the client to the unit with this code valid today (the scope of "
                   "its future writes).")
def create_client(name: str, role: str, unit_code: str | None) -> None:
    """Create a client and print its token, once: only its hash is kept."""
    try:
        unit = clients.unit_valid_today(unit_code) if unit_code else None
        client, token = clients.create_client(name, role, unit)
    except FieldError as error:
        db.session.rollback()
        raise click.ClickException(str(error)) from None
    db.session.commit()
    click.echo(f"Client {client.name!r} created with role {client.role_code}.")
    click.echo("Its token (shown only now; store it in the calling system):")
    click.echo(token)


@api_group.command("revoke-client")
@click.argument("name")
def revoke_client(name: str) -> None:
    """Revoke a client's token at once."""
    try:
        clients.revoke_client(name)
    except FieldError as error:
        db.session.rollback()
        raise click.ClickException(str(error)) from None
    db.session.commit()
    click.echo(f"Client {name!r} revoked.")


@api_group.command("rotate-client")
@click.argument("name")
def rotate_client(name: str) -> None:
    """Give a client a new token and print it, once; the old one stops working at once."""
    try:
        token = clients.rotate_client(clients.by_name(name))
    except FieldError as error:
        db.session.rollback()
        raise click.ClickException(str(error)) from None
    db.session.commit()
    click.echo(f"Client {name!r} has a new token (shown only now; the old one no longer works):")
    click.echo(token)


@api_group.command("list-clients")
def list_clients() -> None:
    """Every client with its role, creation, last use and revocation."""
    for client in clients.clients():
        state = f"revoked {client.revoked_at:%Y-%m-%d}" if client.revoked_at else "active"
        used = f"{client.last_used_at:%Y-%m-%d %H:%M}" if client.last_used_at else "never"
        click.echo(f"{client.name:<30} {client.role_code:<20} {state:<20} last used {used}")
