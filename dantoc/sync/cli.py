"""``flask sync …``: pull the catalogs and the document library from another dantoc
instance, push approved reports to the centre; ``flask sync run`` does both (one pass)."""

from __future__ import annotations

import click
from flask import current_app

from . import pull as pulling
from . import push as pushing


@click.group("sync")
def sync_group() -> None:
    """Synchronisation with another dantoc instance."""


def _peer_and_token(peer: str | None, token: str | None) -> tuple[str, str]:
    """The options, else the configuration (DANTOC_SYNC_PEER, DANTOC_SYNC_TOKEN: what the
    systemd timer of docs/deployment.md sets in the environment file)."""
    peer = peer or current_app.config.get("SYNC_PEER")
    token = token or current_app.config.get("SYNC_TOKEN")
    if not peer:
        raise click.UsageError("no peer: give its address or set DANTOC_SYNC_PEER")
    if not token:
        raise click.UsageError("no token: give --token or set DANTOC_SYNC_TOKEN")
    return peer, token


def _timeout(timeout: float | None) -> float:
    return timeout if timeout is not None else current_app.config.get("SYNC_TIMEOUT", 30)


@sync_group.command("pull")
@click.option("--from", "peer", metavar="URL",
              help="The other instance's base address, e.g. https://dantoc.example.gov.vn "
                   "(default: DANTOC_SYNC_PEER).")
@click.option("--token", help="Its API token for this instance (default: DANTOC_SYNC_TOKEN).")
@click.option("--resource", "resources", multiple=True, type=click.Choice(pulling.RESOURCES),
              help="Only these lists (default: all, in dependency order).")
@click.option("--timeout", type=float,
              help="Seconds per request (default: DANTOC_SYNC_TIMEOUT, 30).")
@click.option("--page-size", default=pulling.PAGE_SIZE, show_default=True,
              type=click.IntRange(1, 500),
              help="Items per request (smaller pages: less lost on a poor link).")
def pull(peer: str | None, token: str | None, resources: tuple[str, ...],
         timeout: float | None, page_size: int) -> None:
    """Copy the catalogs (upsert by code); resumes after the last committed page."""
    peer, token = _peer_and_token(peer, token)
    chosen = tuple(r for r in pulling.RESOURCES if r in resources) or pulling.RESOURCES
    run(peer, token, chosen, pulling.HttpTransport(_timeout(timeout)), page_size)


def run(peer: str, token: str, resources: tuple[str, ...], transport,
        page_size: int = pulling.PAGE_SIZE) -> None:
    """Pull and print one line per list; exit 1 with the reason in words on an error."""
    failed = False
    for resource in resources:
        try:
            counts = pulling.pull(peer, token, transport, resources=(resource,),
                                  limit=page_size)[resource]
        except pulling.SyncError as error:
            click.echo(f"{resource}: stopped: {error}", err=True)
            failed = True
            break
        click.echo(f"{resource}: {counts.added} added, {counts.changed} changed, "
                   f"{counts.retired} retired, {counts.unchanged} unchanged "
                   f"({counts.pages} pages)")
        for problem in counts.problems:
            click.echo(f"{resource}: {problem}", err=True)
            failed = True
    if failed:
        raise SystemExit(1)


@sync_group.command("push")
@click.option("--to", "peer", metavar="URL",
              help="The centre's base address, e.g. https://dantoc.example.gov.vn "
                   "(default: DANTOC_SYNC_PEER).")
@click.option("--token", help="The centre's API token for this instance, with the api.push "
                              "verb and bound to this province (default: DANTOC_SYNC_TOKEN).")
@click.option("--timeout", type=float,
              help="Seconds per request (default: DANTOC_SYNC_TIMEOUT, 30).")
def push(peer: str | None, token: str | None, timeout: float | None) -> None:
    """Send the approved reports the centre has not acknowledged; safe to run again."""
    peer, token = _peer_and_token(peer, token)
    run_push(peer, token, pushing.HttpPoster(_timeout(timeout)))


def run_push(peer: str, token: str, transport) -> None:
    """Push and print what was sent; exit 1 with the reason in words on an error."""
    try:
        counts = pushing.push(peer, token, transport)
    except pulling.SyncError as error:
        click.echo(f"reports: stopped: {error}", err=True)
        raise SystemExit(1) from None
    click.echo(f"reports: {counts.sent} sent, {counts.already_there} already at the centre")


@sync_group.command("run")
@click.option("--timeout", type=float,
              help="Seconds per request (default: DANTOC_SYNC_TIMEOUT, 30).")
def run_pass(timeout: float | None) -> None:
    """One pass with the configured centre (DANTOC_SYNC_PEER, DANTOC_SYNC_TOKEN): pull every
    list, then push the approved reports, even when the pull stopped (the reports do not
    depend on the lists). Resumable and safe to run twice; exit 1 when either stopped."""
    peer, token = _peer_and_token(None, None)
    failed = False
    for step in (lambda: run(peer, token, pulling.RESOURCES,
                             pulling.HttpTransport(_timeout(timeout))),
                 lambda: run_push(peer, token, pushing.HttpPoster(_timeout(timeout)))):
        try:
            step()
        except SystemExit:
            failed = True
    if failed:
        raise SystemExit(1)
