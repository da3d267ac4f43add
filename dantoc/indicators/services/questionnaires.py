"""Report forms (biểu) and questionnaires (phiếu): versions, sections and items.

A draft version is edited freely; :func:`publish` freezes it for good, and
:func:`new_version` copies the latest published version into a new draft.
"""

from __future__ import annotations

import sqlalchemy as sa
from flask_babel import gettext as _

from ... import clock
from ...audit import services as audit
from ...catalogs.models import AdminLevel
from ...extensions import db
from ...refusal import FieldError
from ...sync import origin
from ..models import (
    FORM_KINDS,
    PERIOD_TYPES,
    CatalogueVersion,
    Form,
    FormItem,
    FormSection,
    FormStatus,
    FormVersion,
    Indicator,
)
from .common import changed, check_code, check_unique, clean_text, created

_FORM_FIELDS = ("code", "kind", "name", "catalogue_version_id", "legal_basis")


def _form_values(code: str, kind: str, name: str, legal_basis: str | None) -> dict:
    if kind not in FORM_KINDS:
        raise FieldError(_("Not a valid choice."), "kind")
    return {"code": check_code(code), "kind": kind, "name": clean_text(name, "name"),
            "legal_basis": clean_text(legal_basis, "legal_basis", required=False)}


def _version_values(fill_level: AdminLevel | None, period_type: str) -> dict:
    if fill_level is None:
        raise FieldError(_("This field is required."), "fill_level")
    if period_type not in PERIOD_TYPES:
        raise FieldError(_("Not a valid choice."), "period_type")
    return {"fill_level_id": fill_level.id, "period_type": period_type}


def create_form(*, code: str, kind: str, name: str, catalogue_version: CatalogueVersion,
                fill_level: AdminLevel, period_type: str,
                legal_basis: str | None = None) -> Form:
    """Create a form with an empty draft version 1 (audited).

    :raise FieldError: on a taken code or an unknown kind, level or period type.
    """
    values = _form_values(code, kind, name, legal_basis)
    version_values = _version_values(fill_level, period_type)
    if catalogue_version is None:
        raise FieldError(_("This field is required."), "catalogue_version")
    origin.check_local_code(values["code"])
    check_unique(Form, code=values["code"])
    form = created("indicators.form.create",
                   Form(catalogue_version_id=catalogue_version.id, **values), _FORM_FIELDS)
    created("indicators.form_version.create",
            FormVersion(form_id=form.id, number=1, status=FormStatus.DRAFT, **version_values))
    return form


def update_form(form: Form, *, code: str, kind: str, name: str,
                legal_basis: str | None = None) -> Form:
    """Change a form's code, kind, name or legal basis (audited); its versions keep content.

    :raise FieldError: on a taken code or an unknown kind.
    :raise Refusal: ``national_record`` for a form copied from the centre.
    """
    origin.check_editable(form)
    values = _form_values(code, kind, name, legal_basis)
    origin.check_local_code(values["code"], current=form.code)
    check_unique(Form, form, code=values["code"])
    return changed("indicators.form.update", form, values)


def _draft(version: FormVersion) -> FormVersion:
    origin.check_editable(version.form)  # its versions are the centre's (numbers too)
    if version.status != FormStatus.DRAFT:
        raise FieldError(_("This version is published and cannot change. Make a new "
                           "version instead."))
    return version


def update_version(version: FormVersion, *, fill_level: AdminLevel,
                   period_type: str) -> FormVersion:
    """Change who fills a draft version and how often (audited).

    :raise FieldError: when the version is not a draft, or on unknown values.
    """
    return changed("indicators.form_version.update", _draft(version),
                   _version_values(fill_level, period_type))


def version_of(obj: FormSection | FormItem) -> FormVersion:
    """The form version a section or item belongs to."""
    return db.session.get(FormVersion, obj.form_version_id)


def add_section(version: FormVersion, title: str) -> FormSection:
    """Append a section to a draft version (audited).

    :raise FieldError: when the version is published or the title blank.
    """
    _draft(version)
    title = clean_text(title, "title")
    position = max((s.position for s in version.sections), default=0) + 1
    section = FormSection(form_version_id=version.id, position=position, title=title)
    version.sections.append(section)
    return created("indicators.section.create", section)


def rename_section(section: FormSection, title: str) -> FormSection:
    """Change a section's title (audited).

    :raise FieldError: when the version is published or the title blank.
    """
    _draft(version_of(section))
    return changed("indicators.section.update", section, {"title": clean_text(title, "title")})


def _swap(rows: list, row, direction: int) -> bool:
    """Swap ``row`` with its neighbour; positions are unique, so go through a free slot."""
    index = rows.index(row) + (1 if direction > 0 else -1)
    if not 0 <= index < len(rows):
        return False
    other = rows[index]
    mine, theirs = row.position, other.position
    row.position = -1
    db.session.flush()
    other.position = mine
    db.session.flush()
    row.position = theirs
    db.session.flush()
    return True


def _renumber(rows: list) -> None:
    """Close the gaps left by a removal, lowest position first so no two rows collide."""
    for position, row in enumerate(sorted(rows, key=lambda r: r.position), start=1):
        if row.position != position:
            row.position = position
            db.session.flush()


def _move(row, parent, relation: str, direction: int, action: str):
    """Move a section or item one place within ``parent``'s ``relation`` (audited)."""
    before = row.position
    if _swap(list(getattr(parent, relation)), row, direction):
        audit.record(action, row, before={"position": before}, after={"position": row.position})
        db.session.expire(parent, [relation])
    return row


def _remove(row, parent, relation: str, action: str, before: dict) -> None:
    """Take a section or item out of ``parent``'s ``relation`` and close the gap (audited)."""
    audit.record(action, row, before=before)
    rows = getattr(parent, relation)
    rows.remove(row)
    db.session.flush()
    _renumber(rows)


def move_section(section: FormSection, direction: int) -> FormSection:
    """Move a section one place up (-1) or down (+1) in a draft version (audited).

    :raise FieldError: when the version is published.
    """
    version = _draft(version_of(section))
    return _move(section, version, "sections", direction, "indicators.section.move")


def remove_section(section: FormSection) -> None:
    """Remove a section and its items from a draft version (audited).

    :raise FieldError: when the version is published.
    """
    version = _draft(version_of(section))
    _remove(section, version, "sections", "indicators.section.delete", audit.snapshot(section) | {
        "indicator_ids": [i.indicator_id for i in section.items]})


def add_item(section: FormSection, indicator: Indicator | None) -> FormItem:
    """Append an indicator to a section of a draft version (audited).

    :raise FieldError: when the version is published, the indicator is of another
        catalogue version, or already in this version.
    """
    version = _draft(version_of(section))
    form = db.session.get(Form, version.form_id)
    if indicator is None or indicator.catalogue_version_id != form.catalogue_version_id:
        raise FieldError(_("Choose an indicator of this form's catalogue version."),
                         "indicator")
    if indicator.formula:
        raise FieldError(_("A derived indicator is computed from the others: it is not asked "
                           "on a form."), "indicator")
    if db.session.scalar(sa.select(FormItem.id).where(
            FormItem.form_version_id == version.id, FormItem.indicator_id == indicator.id)):
        raise FieldError(_("This indicator is already in this version."), "indicator")
    position = max((i.position for i in section.items), default=0) + 1
    item = FormItem(section_id=section.id, form_version_id=version.id,
                    indicator_id=indicator.id, position=position)
    section.items.append(item)
    return created("indicators.item.create", item)


def move_item(item: FormItem, direction: int) -> FormItem:
    """Move an item one place up (-1) or down (+1) within its section (audited).

    :raise FieldError: when the version is published.
    """
    _draft(version_of(item))
    section = db.session.get(FormSection, item.section_id)
    return _move(item, section, "items", direction, "indicators.item.move")


def remove_item(item: FormItem) -> None:
    """Take an item out of a draft version (audited).

    :raise FieldError: when the version is published.
    """
    _draft(version_of(item))
    section = db.session.get(FormSection, item.section_id)
    _remove(item, section, "items", "indicators.item.delete", audit.snapshot(item))


def publish(version: FormVersion) -> FormVersion:
    """Freeze a draft version for good; the form's earlier published version retires (audited).

    :raise FieldError: when the version is not a draft or has no indicator.
    """
    _draft(version)
    if not any(section.items for section in version.sections):
        raise FieldError(_("Add at least one indicator before publishing."))
    for other in db.session.scalars(sa.select(FormVersion).where(
            FormVersion.form_id == version.form_id, FormVersion.status == FormStatus.PUBLISHED)):
        changed("indicators.form_version.retire", other, {"status": FormStatus.RETIRED})
    return changed("indicators.form_version.publish", version,
                   {"status": FormStatus.PUBLISHED, "published_at": clock.now()})


def new_version(form: Form) -> FormVersion:
    """Copy the latest published (or retired) version of a form into a new draft (audited).

    :raise FieldError: when the form already has a draft or nothing published.
    :raise Refusal: ``national_record`` for a form copied from the centre (its next version
        is the centre's).
    """
    origin.check_editable(form)
    versions = list(db.session.scalars(sa.select(FormVersion).where(
        FormVersion.form_id == form.id).order_by(FormVersion.number)))
    if any(v.status == FormStatus.DRAFT for v in versions):
        raise FieldError(_("This form already has a draft version."))
    source = versions[-1] if versions else None
    if source is None:
        raise FieldError(_("This form has no version to copy."))
    draft = FormVersion(form_id=form.id, number=source.number + 1, status=FormStatus.DRAFT,
                        fill_level_id=source.fill_level_id, period_type=source.period_type)
    db.session.add(draft)
    db.session.flush()
    for section in source.sections:
        copy = FormSection(form_version_id=draft.id, position=section.position,
                           title=section.title)
        copy.items = [FormItem(form_version_id=draft.id, indicator_id=i.indicator_id,
                               position=i.position) for i in section.items]
        draft.sections.append(copy)
    db.session.flush()
    audit.record("indicators.form_version.create", draft, after=audit.snapshot(draft) | {
        "copied_from": source.number})
    return draft
