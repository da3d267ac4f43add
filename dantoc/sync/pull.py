"""``flask sync pull``: copy the catalogs of another dantoc instance through its API.

One pass reads each list page by page and upserts every item by its code (units by
``(code, valid_from)``), so running it twice changes nothing the second time. Each page's
rows, their audit rows and the cursor after the page are committed together: a pass
stopped anywhere (a killed process, a peer that answers 500 or times out) loses nothing,
and the next run continues after the last committed page. At the end of a list its cursor
is removed, so the next pass reads the list again and picks up changed rows.

The order matters: catalogue versions before their groups, groups before indicators; a
unit (or a document group) whose parent has not arrived yet is kept for the end of the pass.
The document library comes last and is read through its change feed (:data:`FEEDS`,
:mod:`.documents`).

Every row of a model with ``synced_from`` (:class:`.origin.Pulled`) that a pass writes, or
finds here already under the same key, is marked with the peer: a national record, read-only
in this instance's screens and services (:mod:`.origin`). Rows created here are never in the
peer's lists (their codes are in the local range), so a pass never touches them.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Any, Protocol

import sqlalchemy as sa

from ..audit import services as audit
from ..catalogs.models import (
    AdminLevel,
    AdminUnit,
    Department,
    EthnicGroup,
    Religion,
    UnitLineage,
    UnitType,
)
from ..documents import files as stored_files
from ..extensions import db
from ..indicators.models import (
    CatalogueVersion,
    Disaggregation,
    DisaggregationOption,
    Form,
    FormItem,
    FormSection,
    FormStatus,
    FormVersion,
    Indicator,
    IndicatorChoice,
    IndicatorGroup,
)
from ..indicators.services.indicators import _set_disaggregations as set_disaggregations
from . import documents, status
from .models import PULL, SyncCursor
from .rows import PEER, PENDING, SyncError, day, moment, retiring, same_moment, upsert

RESOURCES = ("catalogue-versions", "indicator-groups", "indicators", "ethnic-groups",
             "religions", "admin-units", "report-forms", "questionnaires", "document-groups",
             "documents")
#: Lists read through their change feed (``?changed_since=``), which also tells what the
#: peer retired or took back. A pass starts at the moment the last one reached, less
#: :data:`FEED_OVERLAP` (a row written in a transaction that committed late keeps its
#: earlier ``updated_at``); reading a row twice changes nothing.
FEEDS = frozenset({"document-groups", "documents"})
FEED_START = "1970-01-01T00:00:00+00:00"
FEED_OVERLAP = timedelta(minutes=10)
PAGE_SIZE = 200



class Transport(Protocol):
    def get(self, url: str, headers: dict[str, str]) -> tuple[int, Any]:
        """(HTTP status, decoded JSON body or None)."""

    def download(self, url: str, headers: dict[str, str]) -> tuple[int, bytes | None]:
        """(HTTP status, the body's bytes; None for a refusal)."""


class HttpTransport:
    """urllib over HTTP(S), with a timeout: the standard library is enough for GETs."""

    def __init__(self, timeout: float = 30):
        self.timeout = timeout

    def get(self, url: str, headers: dict[str, str]) -> tuple[int, Any]:
        return self.send(url, headers)

    def download(self, url: str, headers: dict[str, str]) -> tuple[int, bytes | None]:
        """A file's bytes, read up to one byte more than an upload may have (a larger file
        is refused by the check that follows, without holding all of it)."""
        limit = stored_files.max_bytes() + 1
        return self.send(url, headers, read=lambda answer: answer.read(limit),
                         refusal=lambda error: None)

    def send(self, url: str, headers: dict[str, str], data: bytes | None = None,
             method: str = "GET", read: Callable = json.load,
             refusal: Callable = json.load) -> tuple[int, Any]:
        """The peer's status and JSON answer (None for a refusal that is not JSON); an
        unreachable peer or an answer that is not JSON is a :class:`SyncError`."""
        if urllib.parse.urlsplit(url).scheme not in ("http", "https"):
            raise SyncError(f"{url} is not an http(s) address", "unreachable", url=url)
        request = urllib.request.Request(  # noqa: S310 (the scheme is checked above)
            url, data=data, method=method, headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as answer:  # noqa: S310
                return answer.status, read(answer)
        except urllib.error.HTTPError as error:
            try:
                return error.code, refusal(error)
            except ValueError:
                return error.code, None
        except (urllib.error.URLError, TimeoutError, OSError) as error:
            raise SyncError(f"the peer {url} did not answer: {error}", "unreachable",
                            url=url) from None
        except ValueError:
            raise SyncError(f"the peer answered {url} with something that is not JSON",
                            "not_json", url=url) from None


@dataclass
class Context:
    """What an upsert may need besides its item: the units waiting for their parent, and
    a way to read another page of the peer's API (a form version's layout)."""

    pending: list
    fetch: Callable[[str], dict]
    #: The bytes at a URL of the peer (a document's file), for the documents' pull.
    download: Callable[[str], bytes]
    #: Units by (code, valid_from) known in this pass, and reference rows by code: a page
    #: of 500 units is a few queries, not a few per unit.
    #: (ids, which survive the commit after each page; rows are reloaded per page)
    units: dict = field(default_factory=dict)
    unit_ids: dict = field(default_factory=dict)
    codes: dict = field(default_factory=dict)

    def id_of(self, model, code: str, what: str) -> int:
        key = (model, code)
        if key not in self.codes:
            self.codes[key] = _by_code(model, code, what).id
        return self.codes[key]


@dataclass
class Counts:
    """What a pass did with one list: its items by outcome (:meth:`count`), the pages read,
    and what to tell the operator (problems, orphaned units)."""

    added: int = 0
    changed: int = 0
    #: Changed rows that the change retired: a unit or indicator catalogue version given an
    #: end of validity, a form version retired (counted here, not in ``changed``).
    retired: int = 0
    unchanged: int = 0
    pages: int = 0
    problems: list[str] = field(default_factory=list)
    #: Codes of the units left out because their parent is missing at the peer.
    orphans: list[str] = field(default_factory=list)

    def count(self, outcome: str) -> None:
        if outcome != PENDING:
            setattr(self, outcome, getattr(self, outcome) + 1)


def _decimal(text: str | None) -> Decimal | None:
    return Decimal(text) if text is not None else None


def _by_code(model, code: str, what: str):
    row = db.session.scalar(sa.select(model).where(model.code == code))
    if row is None:
        raise SyncError(f"{what} {code!r} does not exist here; load the reference catalogs "
                        "first (flask seed-reference)", "missing", code=code)
    return row


# -- one upsert per resource ----------------------------------------------------------------

def _catalogue_version(item: dict, _context: Context) -> str:
    before = db.session.scalar(sa.select(CatalogueVersion.valid_to).where(
        CatalogueVersion.code == item["code"]))
    outcome = upsert(CatalogueVersion, {"code": item["code"]}, {
        "name": item["name"], "legal_basis": item["legal_basis"],
        "valid_from": day(item["valid_from"]), "valid_to": day(item["valid_to"])},
        "sync.catalogue_version")[1]
    return retiring(outcome, before, day(item["valid_to"]))


def _version_id(code: str) -> int:
    return _by_code(CatalogueVersion, code, "The catalogue version").id


def _indicator_group(item: dict, _context: Context) -> str:
    department_id = None
    if item["department"]:
        department, _outcome = upsert(Department, {"code": item["department"]["code"]},
                                       {"name": item["department"]["name"]},
                                       "sync.department")
        department_id = department.id
    return upsert(IndicatorGroup, {"catalogue_version_id": _version_id(
        item["catalogue_version"]), "code": item["code"]}, {
        "name": item["name"], "department_id": department_id, "position": item["position"]},
        "sync.indicator_group")[1]


def _disaggregation(item: dict) -> Disaggregation:
    row = db.session.scalar(sa.select(Disaggregation).where(
        Disaggregation.code == item["code"]))
    options = [(o["code"], o["label"]) for o in item["options"]]
    if row is not None and [(o.code, o.label) for o in row.options] == options and (
            row.name, row.source) == (item["name"], item["source"]):
        return row
    if row is None:
        row = Disaggregation(code=item["code"], name=item["name"], source=item["source"])
        db.session.add(row)
    row.name, row.source = item["name"], item["source"]
    row.options.clear()
    db.session.flush()  # the old rows go before new ones reuse their codes
    row.options = [DisaggregationOption(code=code, label=label, position=i)
                   for i, (code, label) in enumerate(options, start=1)]
    db.session.flush()
    audit.record("sync.disaggregation.save", row, after={"code": row.code, "options": options})
    return row


def _indicator(item: dict, _context: Context) -> str:
    version_id = _version_id(item["catalogue_version"])
    group = db.session.scalar(sa.select(IndicatorGroup).where(
        IndicatorGroup.catalogue_version_id == version_id,
        IndicatorGroup.code == item["group"]))
    if group is None:
        raise SyncError(f"indicator {item['code']!r}: its group {item['group']!r} is missing",
                        "missing", code=item["group"])
    row, outcome = upsert(Indicator, {"catalogue_version_id": version_id,
                                       "code": item["code"]}, {
        "group_id": group.id, "name": item["name"], "unit_of_measure": item["unit_of_measure"],
        "value_type": item["value_type"], "aggregation": item["aggregation"],
        "min_value": _decimal(item["min_value"]), "max_value": _decimal(item["max_value"]),
        "required": item["required"], "help_text": item["help_text"]}, "sync.indicator")
    choices = [(c["code"], c["label"]) for c in item["choices"]]
    dimensions = [_disaggregation(d) for d in item["disaggregations"]]
    extra_changed = False
    if [(c.code, c.label) for c in row.choices] != choices:
        row.choices.clear()
        db.session.flush()  # the old rows go before new ones reuse their codes
        row.choices = [IndicatorChoice(code=code, label=label, position=i)
                       for i, (code, label) in enumerate(choices)]
        extra_changed = True
    if [d.code for d in row.disaggregations] != [d.code for d in dimensions]:
        db.session.flush()
        set_disaggregations(row, dimensions)  # in the peer's order, positions written
        extra_changed = True
    if extra_changed:
        db.session.flush()
        audit.record("sync.indicator.parts", row, after={"choices": choices, "disaggregations":
                                                         [d.code for d in dimensions]})
        return "changed" if outcome == "unchanged" else outcome
    return outcome


ETHNIC_FIELDS = ("code_2008", "name", "common_name", "other_names", "language_family",
                 "language_group", "lives_in_community_in_province", "note")
RELIGION_FIELDS = ("name", "census_label", "recognised", "followers_census_2019",
                   "organisations", "note")


def _ethnic_group(item: dict, _context: Context) -> str:
    return upsert(EthnicGroup, {"code": item["code"]},
                   {name: item[name] for name in ETHNIC_FIELDS}, "sync.ethnic_group")[1]


def _religion(item: dict, _context: Context) -> str:
    """By GSO code; the two recognised religions without one, by name."""
    if item["code"] is None:
        values = {name: item[name] for name in RELIGION_FIELDS if name != "name"}
        return upsert(Religion, {"code": None, "name": item["name"]}, values,
                       "sync.religion")[1]
    return upsert(Religion, {"code": item["code"]},
                   {name: item[name] for name in RELIGION_FIELDS}, "sync.religion")[1]


def _unit_key(key: dict) -> tuple[str, date]:
    return key["code"], day(key["valid_from"])


def _preload_units(items: list[dict], context: Context) -> None:
    """Every unit a page names (the units, their parents, their lineage), in one query."""
    codes = set()
    for item in items:
        codes.add(item["code"])
        if item["parent"]:
            codes.add(item["parent"]["code"])
        codes.update(link["unit"]["code"] for link in item["predecessors"] + item["successors"])
    context.units = {}
    for chunk in (sorted(codes)[i:i + 500] for i in range(0, len(codes), 500)):
        for unit in db.session.scalars(sa.select(AdminUnit).where(AdminUnit.code.in_(chunk))):
            context.units[(unit.code, unit.valid_from)] = unit
            context.unit_ids[(unit.code, unit.valid_from)] = unit.id


def _unit_id(key: dict | None, context: Context) -> int | None:
    if key is None:
        return None
    return context.unit_ids.get(_unit_key(key))


def _admin_unit(item: dict, context: Context) -> str:
    parent_id = _unit_id(item["parent"], context)
    if item["parent"] is not None and parent_id is None:
        context.pending.append(item)  # its parent comes later in the list
        return PENDING
    key = _unit_key(item)
    known = context.units.get(key)
    was_open = known is None or known.valid_to is None
    row, outcome = upsert(AdminUnit, {"code": key[0], "valid_from": key[1]}, {
        "valid_to": day(item["valid_to"]), "name": item["name"],
        "level_id": context.id_of(AdminLevel, item["level"], "The level"),
        "unit_type_id": context.id_of(UnitType, item["unit_type"], "The unit type"),
        "parent_id": parent_id, "is_sample": item["is_sample"], "aliases": item["aliases"]},
        "sync.unit", row=known)
    outcome = retiring(outcome, None if was_open else row.valid_to, row.valid_to)
    context.units[key], context.unit_ids[key] = row, row.id
    for link, forward in [(p, False) for p in item["predecessors"]] + [
            (s, True) for s in item["successors"]]:
        other = _unit_id(link["unit"], context)
        if other is None:
            continue  # the link is made when the other unit arrives
        ends = (row.id, other) if forward else (other, row.id)
        upsert(UnitLineage, {"from_unit_id": ends[0], "to_unit_id": ends[1]}, {
            "kind": link["kind"], "effective_date": day(link["effective_date"]),
            "share": _decimal(link["share"]), "legal_basis": link["legal_basis"]},
            "sync.lineage")
    return outcome


def _create_version(form: Form, layout: dict) -> FormVersion:
    """A version the peer published, with its sections and items, as it is there."""
    version = FormVersion(
        form_id=form.id, number=layout["number"], status=layout["status"],
        fill_level_id=_by_code(AdminLevel, layout["fill_level"], "The level").id,
        period_type=layout["period_type"], published_at=moment(layout["published_at"]))
    db.session.add(version)
    db.session.flush()
    for section_item in layout["sections"]:
        section = FormSection(form_version_id=version.id, position=section_item["position"],
                              title=section_item["title"])
        db.session.add(section)
        db.session.flush()
        for placed in section_item["items"]:
            indicator_id = db.session.scalar(sa.select(Indicator.id).where(
                Indicator.catalogue_version_id == form.catalogue_version_id,
                Indicator.code == placed["indicator"]))
            if indicator_id is None:
                raise SyncError(f"form {form.code} version {version.number}: indicator "
                                f"{placed['indicator']!r} is missing (pull the indicators "
                                "first)", "missing", code=placed["indicator"])
            db.session.add(FormItem(section_id=section.id, form_version_id=version.id,
                                    indicator_id=indicator_id, position=placed["position"]))
    db.session.flush()
    audit.record("sync.form_version.create", version, after={
        "form": form.code, "number": version.number, "status": version.status,
        "sections": len(layout["sections"])})
    return version


def _form(resource: str) -> Callable[[dict, Context], str]:
    """The upsert of a report form or questionnaire: the form by code; a version new here
    is created with its layout; a version known here only changes status (retired). A
    published version is never edited, so its layout is never rewritten."""

    def upsert_form(item: dict, context: Context) -> str:
        form, outcome = upsert(Form, {"code": item["code"]}, {
            "kind": item["kind"], "name": item["name"],
            "catalogue_version_id": _version_id(item["catalogue_version"]),
            "legal_basis": item["legal_basis"]}, "sync.form")
        for summary in item["versions"]:
            local = db.session.scalar(sa.select(FormVersion).where(
                FormVersion.form_id == form.id, FormVersion.number == summary["number"]))
            if local is None:
                path = f"{resource}/{urllib.parse.quote(form.code)}/versions/{summary['number']}"
                _create_version(form, context.fetch(path))
            elif local.status == FormStatus.DRAFT:
                raise SyncError(f"form {form.code} version {local.number} is a draft here "
                                "but published at the peer: renumber or delete the local draft",
                                "draft_here", form=form.code, number=local.number)
            elif local.status != summary["status"] or not same_moment(
                    local.published_at, moment(summary["published_at"])):
                before = {"status": local.status}
                if summary["status"] == FormStatus.RETIRED != local.status and outcome in (
                        "unchanged", "changed"):
                    outcome = "retired"
                local.status, local.published_at = summary["status"], moment(
                    summary["published_at"])
                db.session.flush()
                audit.record("sync.form_version.update", local, before=before,
                             after={"status": local.status})
            else:
                continue
            outcome = "changed" if outcome == "unchanged" else outcome
        return outcome

    return upsert_form


#: What a page of a list loads at once before its items are stored.
PRELOADS = {"admin-units": _preload_units}

UPSERTS: dict[str, Callable[[dict, Context], str]] = {
    "catalogue-versions": _catalogue_version, "indicator-groups": _indicator_group,
    "indicators": _indicator, "ethnic-groups": _ethnic_group, "religions": _religion,
    "admin-units": _admin_unit, "report-forms": _form("report-forms"),
    "questionnaires": _form("questionnaires"),
    "document-groups": documents.document_group, "documents": documents.document,
}


def _unit_left_out(item: dict) -> tuple[str, str]:
    return (f"unit {item['code']} (from {item['valid_from']}): its parent "
            f"{item['parent']['code']} (from {item['parent']['valid_from']}) is missing at the "
            "peer", item["code"])


#: Why an item kept for the end of the pass could not be placed, and its key.
LEFT_OUT = {"admin-units": _unit_left_out, "document-groups": documents.pending_problem}


# -- the pass -------------------------------------------------------------------------------

def _stored_cursor(peer: str, resource: str) -> SyncCursor | None:
    return db.session.scalar(sa.select(SyncCursor).where(SyncCursor.peer == peer,
                                                         SyncCursor.resource == resource))


def _remember(peer: str, resource: str, cursor: str | None) -> None:
    row = _stored_cursor(peer, resource)
    if cursor is None:
        if row is not None:
            db.session.delete(row)
    elif row is None:
        db.session.add(SyncCursor(peer=peer, resource=resource, cursor=cursor))
    else:
        row.cursor = cursor


def _refusal_in_words(url: str, status: int, body: Any) -> str:
    detail = body.get("detail") if isinstance(body, dict) else None
    return f"the peer refused {url} with HTTP {status}" + (f": {detail}" if detail else "")


def _refused(url: str, status: int, body: Any) -> SyncError:
    detail = body.get("detail") if isinstance(body, dict) else None
    return SyncError(_refusal_in_words(url, status, body), "refused", url=url, status=status,
                     detail=detail if isinstance(detail, str) else None)


def _position(resource: str, stored: SyncCursor | None) -> dict:
    """Where a pass starts: the stored page cursor of a list; for a feed (:data:`FEEDS`)
    also the moment it reads from and the latest change read so far in this pass."""
    if resource not in FEEDS:
        return {"cursor": stored.cursor if stored else None}
    if stored is None:
        return {"since": FEED_START, "cursor": None, "reached": None}
    return json.loads(stored.cursor)


def _advanced(resource: str, position: dict, body: dict) -> dict:
    """The position after a page. At the end of a feed, the next pass reads from the
    latest change this one read, less the overlap (never earlier than this pass began)."""
    after = {**position, "cursor": body["next_cursor"]}
    if resource not in FEEDS:
        return after
    stamps = [moment(item["updated_at"]) for item in body["items"]]
    if position["reached"]:
        stamps.append(moment(position["reached"]))
    after["reached"] = max(stamps).isoformat() if stamps else None
    if after["cursor"] is None and after["reached"]:
        after["since"] = max(moment(position["since"]),
                             moment(after["reached"]) - FEED_OVERLAP).isoformat()
        after["reached"] = None
    return after


def _kept(resource: str, position: dict) -> str | None:
    """What :class:`SyncCursor` keeps of a position (None: nothing, a list read to its end)."""
    if resource not in FEEDS:
        return position["cursor"]
    return json.dumps(position, separators=(",", ":"), sort_keys=True)


def _page_url(peer: str, resource: str, position: dict, limit: int) -> str:
    query = {"limit": limit} | ({"changed_since": position["since"]} if resource in FEEDS
                                else {}) | (
        {"cursor": position["cursor"]} if position["cursor"] else {})
    return f"{peer}/api/v1/{resource}?{urllib.parse.urlencode(query)}"


def pull_resource(peer: str, token: str, resource: str, transport: Transport, *,
                  limit: int = PAGE_SIZE, max_pages: int | None = None) -> Counts:
    """Pull one list from where the last committed page ended (see the module docstring);
    how it went is written for the sync screen (:mod:`.status`)."""
    marking = PEER.set(peer)
    try:
        counts, finished = _pull_pages(peer, token, resource, transport, limit, max_pages)
    except SyncError as error:
        db.session.rollback()
        status.failed(PULL, peer, resource, error)
        raise
    finally:
        PEER.reset(marking)
    if finished:
        status.succeeded(PULL, peer, resource, added=counts.added, changed=counts.changed,
                         retired=counts.retired, unchanged=counts.unchanged)
        if counts.problems:
            status.failed(PULL, peer, resource, SyncError(
                "; ".join(counts.problems), "missing_parent",
                units=counts.orphans))
        db.session.commit()
    return counts


def _pull_pages(peer: str, token: str, resource: str, transport: Transport, limit: int,
                max_pages: int | None) -> tuple[Counts, bool]:
    counts = Counts()
    headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}

    def fetch(path: str) -> dict:
        url = f"{peer}/api/v1/{path}"
        status, body = transport.get(url, headers)
        if status != 200 or not isinstance(body, dict):
            raise _refused(url, status, body)
        return body

    def download(path: str) -> bytes:
        url = urllib.parse.urljoin(peer + "/", path)  # the API gives the file's path
        status, data = transport.download(url, {"Authorization": headers["Authorization"]})
        if status != 200 or not isinstance(data, bytes):
            raise _refused(url, status, None)
        return data

    context = Context(pending=[], fetch=fetch, download=download)
    position = _position(resource, _stored_cursor(peer, resource))
    while max_pages is None or counts.pages < max_pages:
        url = _page_url(peer, resource, position, limit)
        status, body = transport.get(url, headers)
        if status != 200 or not isinstance(body, dict) or "items" not in body:
            raise _refused(url, status, body)
        try:
            if resource in PRELOADS:
                PRELOADS[resource](body["items"], context)
            for item in body["items"]:
                counts.count(UPSERTS[resource](item, context))
            after = _advanced(resource, position, body)
            _remember(peer, resource, _kept(resource, after))
            db.session.commit()
        except (SyncError, KeyError, ValueError, TypeError, sa.exc.SQLAlchemyError) as error:
            db.session.rollback()
            if isinstance(error, SyncError):
                raise
            raise SyncError(f"{resource}: a page from the peer could not be stored, nothing "
                            f"of it was kept ({type(error).__name__}: {error})",
                            "not_stored") from None
        counts.pages += 1
        position = after
        if position["cursor"] is None:
            break
    _finish_pending(resource, context, counts)
    return counts, position["cursor"] is None


def _finish_pending(resource: str, context: Context, counts: Counts) -> None:
    """Units or groups whose parent came later in the list: retried until no more can be
    placed."""
    pending = context.pending
    while pending:
        waiting, pending[:] = list(pending), []
        if resource in PRELOADS:
            PRELOADS[resource](waiting, context)
        for item in waiting:
            counts.count(UPSERTS[resource](item, context))
        db.session.commit()
        if len(pending) == len(waiting):
            left_out = [LEFT_OUT[resource](item) for item in pending]
            counts.problems += [problem for problem, _key in left_out]
            counts.orphans += [key for _problem, key in left_out]
            return


def pull(peer: str, token: str, transport: Transport | None = None, *,
         resources: tuple[str, ...] = RESOURCES, limit: int = PAGE_SIZE) -> dict[str, Counts]:
    """Pull every list in order; stops at the first error (committed pages stay)."""
    peer = peer.rstrip("/")
    transport = transport or HttpTransport()
    return {resource: pull_resource(peer, token, resource, transport, limit=limit)
            for resource in resources}
