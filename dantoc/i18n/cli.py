"""``flask translate …``: extract, update, compile and create message catalogs; coverage."""

from __future__ import annotations

from pathlib import Path

import click
from flask.cli import AppGroup

from . import message_catalogs

translate = AppGroup("translate", help="Interface message catalogs (translations/).")


@translate.command("extract")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path),
              default=message_catalogs.TRANSLATIONS / "messages.pot", show_default=True)
def extract(output: Path) -> None:
    """Write the template (.pot) of every msgid in dantoc/ and templates/."""
    template = message_catalogs.extract()
    message_catalogs.write(output, template, sort=False)
    click.echo(f"{len(template)} messages → {output}")


@translate.command("update")
def update() -> None:
    """Re-extract, merge into every catalog (no fuzzy guesses), then compile."""
    template = message_catalogs.extract()
    for name, untranslated in message_catalogs.update(template).items():
        click.echo(f"{name}: {untranslated} untranslated")
    message_catalogs.compile_all(force=True)


@translate.command("compile")
@click.option("--force", is_flag=True, help="Also recompile catalogs that look up to date.")
def compile_(force: bool) -> None:
    """Compile .po → .mo (build output, git-ignored); fuzzy entries are left out."""
    for path in message_catalogs.compile_all(force=force):
        click.echo(f"compiled {path.relative_to(message_catalogs.TRANSLATIONS)}")


@translate.command("init")
@click.argument("tag")
def init(tag: str) -> None:
    """Create an empty catalog for a registered locale (BCP 47 tag, e.g. blt-Tavt)."""
    from .selection import registry

    locale = registry().get(tag)
    if locale is None:
        raise click.BadParameter(f"unknown locale; registered: {', '.join(registry().tags)}")
    try:
        path = message_catalogs.init(locale.catalog_dir, message_catalogs.extract())
    except FileExistsError as exists:
        raise click.ClickException(f"{exists} exists already; use update") from None
    click.echo(f"created {path} (empty: untranslated strings fall back to "
               f"{' → '.join(locale.fallbacks) or 'the English msgid'})")


@translate.command("coverage")
def coverage() -> None:
    """Print interface and content coverage of every registered locale."""
    from .coverage import report
    from .selection import registry

    click.echo(f"{'locale':<24}{'interface':>18}{'content':>18}{'outdated':>10}")
    for row in report(list(registry())):
        click.echo(f"{row.locale.tag:<24}"
                   f"{row.interface.done:>7}/{row.interface.total:<5}{row.interface.percent:5.1f}%"
                   f"{row.content.done:>7}/{row.content.total:<5}{row.content.percent:5.1f}%"
                   f"{row.content.outdated:>10}")
