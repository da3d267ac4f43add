"""``flask dhis2 …``: load the DHIS2 mapping from CSV, export a data value set."""

from __future__ import annotations

import json
from pathlib import Path

import click

from ..extensions import db
from ..refusal import Refusal
from . import dhis2


@click.group("dhis2")
def dhis2_group() -> None:
    """DHIS2 dataValueSets: the mapping table and exports (docs/api.md §DHIS2)."""


@dhis2_group.command("load-mapping")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def load_mapping(path: Path) -> None:
    """Load a mapping CSV: data elements (header catalogue_version,indicator,
    disaggregation,data_element,category_option_combo) or org units (header
    unit_code,unit_valid_from,org_unit). All lines or none."""
    try:
        loaded = dhis2.load_mapping(path.read_text(encoding="utf-8"))
    except (dhis2.MappingError, UnicodeDecodeError) as error:
        db.session.rollback()
        raise click.ClickException(f"nothing loaded: {error}") from None
    db.session.commit()
    click.echo(f"{path.name}: {loaded.added} added, {loaded.changed} changed, "
               f"{loaded.unchanged} unchanged")


@dhis2_group.command("export")
@click.option("--period", required=True, help="DHIS2 period: 2026, 2026S1, 2026Q4, 202612.")
@click.option("--org-unit", required=True, help="The mapped DHIS2 org unit.")
def export(period: str, org_unit: str) -> None:
    """Print the approved figures of one org unit and period as dataValueSets JSON."""
    if dhis2.from_dhis2(period) is None:
        raise click.BadParameter("not a DHIS2 period (2026, 2026S1, 2026Q4, 202612)",
                                 param_hint="--period")
    try:
        document = dhis2.export(period, org_unit)
    except Refusal as refusal:
        raise click.ClickException(str(refusal)) from None
    finally:
        db.session.rollback()
    click.echo(json.dumps(document, ensure_ascii=False, indent=2))


@dhis2_group.command("drafts")
def drafts() -> None:
    """The imported DHIS2 values waiting for review (draft reports), newest first."""
    for report, client in dhis2.drafts():
        click.echo(f"#{report.id:<6} {report.unit.code} (from {report.unit.valid_from}) "
                   f"{report.period.code:<10} {len(report.figures):>5} values  "
                   f"from api:{client}  {report.received_at:%Y-%m-%d %H:%M}")
    db.session.rollback()
