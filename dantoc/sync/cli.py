"""``flask sync …``: pull the catalogs from another dantoc instance, push approved reports
to the centre."""

from __future__ import annotations

import click

from . import pull as pulling
from . import push as pushing


@click.group("sync")
def sync_group() -> None:
    """Synchronisation with another dantoc instance."""


@sync_group.command("pull")
@click.option("--from", "peer", required=True, metavar="URL",
              help="The other instance's base address, e.g. https://dantoc.example.gov.vn")
@click.option("--token", required=True, envvar="DANTOC_SYNC_TOKEN",
              help="Its API token for this instance (or DANTOC_SYNC_TOKEN).")
@click.option("--resource", "resources", multiple=True, type=click.Choice(pulling.RESOURCES),
              help="Only these lists (default: all, in dependency order).")
@click.option("--timeout", default=30.0, show_default=True, help="Seconds per request.")
def pull(peer: str, token: str, resources: tuple[str, ...], timeout: float) -> None:
    """Copy the catalogs (upsert by code); resumes after the last committed page."""
    chosen = tuple(r for r in pulling.RESOURCES if r in resources) or pulling.RESOURCES
    run(peer, token, chosen, pulling.HttpTransport(timeout))


def run(peer: str, token: str, resources: tuple[str, ...], transport) -> None:
    """Pull and print one line per list; exit 1 with the reason in words on an error."""
    failed = False
    for resource in resources:
        try:
            counts = pulling.pull(peer, token, transport, resources=(resource,))[resource]
        except pulling.SyncError as error:
            click.echo(f"{resource}: stopped: {error}", err=True)
            failed = True
            break
        click.echo(f"{resource}: {counts.added} added, {counts.changed} changed, "
                   f"{counts.unchanged} unchanged ({counts.pages} pages)")
        for problem in counts.problems:
            click.echo(f"{resource}: {problem}", err=True)
            failed = True
    if failed:
        raise SystemExit(1)


@sync_group.command("push")
@click.option("--to", "peer", required=True, metavar="URL",
              help="The centre's base address, e.g. https://dantoc.example.gov.vn")
@click.option("--token", required=True, envvar="DANTOC_SYNC_TOKEN",
              help="The centre's API token for this instance, with the api.push verb and "
                   "bound to this province (or DANTOC_SYNC_TOKEN).")
@click.option("--timeout", default=30.0, show_default=True, help="Seconds per request.")
def push(peer: str, token: str, timeout: float) -> None:
    """Send the approved reports the centre has not acknowledged; safe to run again."""
    run_push(peer, token, pushing.HttpPoster(timeout))


def run_push(peer: str, token: str, transport) -> None:
    """Push and print what was sent; exit 1 with the reason in words on an error."""
    try:
        counts = pushing.push(peer, token, transport)
    except pulling.SyncError as error:
        click.echo(f"reports: stopped: {error}", err=True)
        raise SystemExit(1) from None
    click.echo(f"reports: {counts.sent} sent, {counts.already_there} already at the centre")
