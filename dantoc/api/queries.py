"""The read services: one function per resource, returning a page of API shapes.

Each loads a page of rows with what they refer to in a fixed number of queries (no query
per row), then builds the :mod:`.schemas` models.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, date, datetime
from decimal import Decimal

import sqlalchemy as sa
import sqlalchemy.orm as so

from ..catalogs.models import AdminLevel, AdminUnit, EthnicGroup, Religion, UnitLineage
from ..extensions import db
from ..indicators.models import (
    CatalogueVersion,
    Disaggregation,
    Form,
    FormSection,
    FormStatus,
    FormVersion,
    Indicator,
    IndicatorGroup,
)
from ..refusal import Refusal
from . import schemas
from .pagination import Page, changes_page, page

#: Form versions the API shows: a draft is work in progress, not a definition to fill.
SHOWN_STATUSES = (FormStatus.PUBLISHED, FormStatus.RETIRED)


def decimal_text(value: Decimal | None) -> str | None:
    """``Decimal('100.0000')`` → ``"100"``; ``Decimal('0.5')`` → ``"0.5"``."""
    if value is None:
        return None
    text = format(value.normalize(), "f")
    return text


def list_page(resource: str, query: sa.Select, model, *, limit: int, cursor: str | None,
          since: datetime | None) -> Page:
    """A page of the list, or of its change feed when ``since`` is given."""
    if since is None:
        return page(resource, query, model.id, limit=limit, cursor=cursor)
    return changes_page(resource, query, model, since=since, limit=limit, cursor=cursor)


def _version_filter(query: sa.Select, model, code: str | None) -> sa.Select:
    if code is None:
        return query
    return query.join(CatalogueVersion, model.catalogue_version_id == CatalogueVersion.id).where(
        CatalogueVersion.code == code)


# -- indicator catalogue --------------------------------------------------------------------

def catalogue_versions(limit: int, cursor: str | None) -> dict:
    result = page("catalogue-versions", sa.select(CatalogueVersion), CatalogueVersion.id,
                  limit=limit, cursor=cursor)
    items = [schemas.CatalogueVersion(code=v.code, name=v.name, legal_basis=v.legal_basis,
                                      valid_from=v.valid_from, valid_to=v.valid_to)
             for v in result.rows]
    return {"items": items, **result.links}


def indicator_groups(limit: int, cursor: str | None, catalogue_version: str | None,
                     changed_since: datetime | None = None) -> dict:
    query = _version_filter(sa.select(IndicatorGroup).options(
        so.joinedload(IndicatorGroup.catalogue_version), so.joinedload(IndicatorGroup.department)),
        IndicatorGroup, catalogue_version)
    result = list_page("indicator-groups", query, IndicatorGroup, limit=limit, cursor=cursor,
                   since=changed_since)
    items = [schemas.IndicatorGroup(
        code=g.code, name=g.name, catalogue_version=g.catalogue_version.code,
        department=schemas.Department(code=g.department.code, name=g.department.name)
        if g.department else None, position=g.position, updated_at=utc(g.updated_at))
        for g in result.rows]
    return {"items": items, **result.links}


def _disaggregation(d: Disaggregation) -> schemas.DisaggregationOut:
    return schemas.DisaggregationOut(
        code=d.code, name=d.name, source=d.source,
        options=[schemas.Choice(code=o.code, label=o.label) for o in d.options])


def _versions_by_id(ids) -> dict[int, str]:
    ids = set(ids)
    if not ids:
        return {}
    return dict(db.session.execute(sa.select(CatalogueVersion.id, CatalogueVersion.code).where(
        CatalogueVersion.id.in_(ids))).tuples().all())


def indicators(limit: int, cursor: str | None, catalogue_version: str | None,
               changed_since: datetime | None = None) -> dict:
    query = _version_filter(sa.select(Indicator).options(
        so.joinedload(Indicator.group), so.selectinload(Indicator.choices),
        so.selectinload(Indicator.disaggregations).selectinload(Disaggregation.options)),
        Indicator, catalogue_version)
    result = list_page("indicators", query, Indicator, limit=limit, cursor=cursor,
                   since=changed_since)
    versions = _versions_by_id(i.catalogue_version_id for i in result.rows)
    items = [schemas.Indicator(
        code=i.code, name=i.name, catalogue_version=versions[i.catalogue_version_id],
        group=i.group.code, unit_of_measure=i.unit_of_measure, value_type=i.value_type,
        aggregation=i.aggregation, min_value=decimal_text(i.min_value),
        max_value=decimal_text(i.max_value), required=i.required, help_text=i.help_text,
        choices=[schemas.Choice(code=c.code, label=c.label) for c in i.choices],
        disaggregations=[_disaggregation(d) for d in i.disaggregations],
        updated_at=utc(i.updated_at)) for i in result.rows]
    return {"items": items, **result.links}


# -- ethnic groups and religions ------------------------------------------------------------

def ethnic_groups(limit: int, cursor: str | None) -> dict:
    result = page("ethnic-groups", sa.select(EthnicGroup), EthnicGroup.id, limit=limit,
                  cursor=cursor)
    fields = schemas.EthnicGroup.model_fields
    items = [schemas.EthnicGroup(**{name: getattr(e, name) for name in fields})
             for e in result.rows]
    return {"items": items, **result.links}


def religions(limit: int, cursor: str | None) -> dict:
    result = page("religions", sa.select(Religion), Religion.id, limit=limit, cursor=cursor)
    fields = schemas.Religion.model_fields
    items = [schemas.Religion(**{name: getattr(r, name) for name in fields})
             for r in result.rows]
    return {"items": items, **result.links}


# -- administrative units -------------------------------------------------------------------

def _lineage(unit_ids: list[int]) -> tuple[dict, dict]:
    """(predecessor links, successor links) of the units, by unit id."""
    if not unit_ids:
        return {}, {}
    before, after = defaultdict(list), defaultdict(list)
    source, target = so.aliased(AdminUnit), so.aliased(AdminUnit)
    rows = db.session.execute(
        sa.select(UnitLineage, source.code, source.valid_from, target.code, target.valid_from)
        .join(source, UnitLineage.from_unit_id == source.id)
        .join(target, UnitLineage.to_unit_id == target.id)
        .where(sa.or_(UnitLineage.from_unit_id.in_(unit_ids),
                      UnitLineage.to_unit_id.in_(unit_ids)))
        .order_by(UnitLineage.effective_date, UnitLineage.id))
    for link, from_code, from_start, to_code, to_start in rows:
        common = {"kind": link.kind, "effective_date": link.effective_date,
                  "share": decimal_text(link.share), "legal_basis": link.legal_basis}
        after[link.from_unit_id].append(schemas.LineageLink(
            unit=schemas.UnitKey(code=to_code, valid_from=to_start), **common))
        before[link.to_unit_id].append(schemas.LineageLink(
            unit=schemas.UnitKey(code=from_code, valid_from=from_start), **common))
    return before, after


def admin_units(limit: int, cursor: str | None, on: date | None, level: str | None,
                changed_since: datetime | None = None) -> dict:
    query = sa.select(AdminUnit).options(
        so.joinedload(AdminUnit.level), so.joinedload(AdminUnit.unit_type),
        so.joinedload(AdminUnit.parent))
    if on is not None:
        query = query.where(AdminUnit.valid_from <= on, sa.or_(
            AdminUnit.valid_to.is_(None), AdminUnit.valid_to >= on))
    if level is not None:
        query = query.where(AdminUnit.level_id.in_(
            sa.select(AdminLevel.id).where(AdminLevel.code == level)))
    result = list_page("admin-units", query, AdminUnit, limit=limit, cursor=cursor,
                   since=changed_since)
    before, after = _lineage([u.id for u in result.rows])
    items = [schemas.AdminUnit(
        code=u.code, valid_from=u.valid_from, valid_to=u.valid_to, name=u.name,
        level=u.level.code, unit_type=u.unit_type.code,
        parent=schemas.UnitKey(code=u.parent.code, valid_from=u.parent.valid_from)
        if u.parent else None, is_sample=u.is_sample, aliases=u.aliases,
        predecessors=before.get(u.id, []), successors=after.get(u.id, []),
        updated_at=utc(u.updated_at)) for u in result.rows]
    return {"items": items, **result.links}


# -- report forms and questionnaires --------------------------------------------------------

def utc(moment: datetime) -> datetime:
    """SQLite gives stored UTC moments back without their zone: say it in the answer."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _summary(version: FormVersion) -> dict:
    return {"number": version.number, "status": version.status,
            "fill_level": version.fill_level.code, "period_type": version.period_type,
            "published_at": utc(version.published_at)}


def forms(kind: str, limit: int, cursor: str | None) -> dict:
    """The forms of ``kind`` (``bieu`` or ``phieu``) that have a published version."""
    shown = sa.select(FormVersion.form_id).where(FormVersion.status.in_(SHOWN_STATUSES))
    query = sa.select(Form).where(Form.kind == kind, Form.id.in_(shown)).options(
        so.joinedload(Form.catalogue_version),
        so.selectinload(Form.versions).joinedload(FormVersion.fill_level))
    result = page(f"forms-{kind}", query, Form.id, limit=limit, cursor=cursor)
    items = [schemas.Form(
        code=f.code, kind=f.kind, name=f.name, catalogue_version=f.catalogue_version.code,
        legal_basis=f.legal_basis,
        versions=[schemas.FormVersionSummary(**_summary(v)) for v in f.versions
                  if v.status in SHOWN_STATUSES]) for f in result.rows]
    return {"items": items, **result.links}


def form_version(kind: str, code: str, number: int) -> schemas.FormVersion:
    """One published or retired version of a form with its layout.

    :raise Refusal: ``not_found`` when there is no such version (drafts are not shown).
    """
    version = db.session.scalar(
        sa.select(FormVersion).join(Form).where(
            Form.kind == kind, Form.code == code, FormVersion.number == number,
            FormVersion.status.in_(SHOWN_STATUSES))
        .options(so.joinedload(FormVersion.form).joinedload(Form.catalogue_version),
                 so.joinedload(FormVersion.fill_level),
                 so.selectinload(FormVersion.sections).selectinload(FormSection.items)))
    if version is None:
        raise Refusal("not_found")
    indicator_ids = {item.indicator_id for s in version.sections for item in s.items}
    codes = dict(db.session.execute(sa.select(Indicator.id, Indicator.code).where(
        Indicator.id.in_(indicator_ids))).tuples().all()) if indicator_ids else {}
    form = version.form
    return schemas.FormVersion(
        **_summary(version), form=form.code, kind=form.kind,
        catalogue_version=form.catalogue_version.code,
        sections=[schemas.FormSection(position=s.position, title=s.title, items=[
            schemas.FormItem(position=i.position, indicator=codes[i.indicator_id])
            for i in s.items]) for s in version.sections])
