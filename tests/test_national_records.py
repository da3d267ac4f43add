"""National records at a province (docs/api.md §National records and local codes): what
``flask sync pull`` copied from the centre is read-only in the services and the screens;
what the province creates takes a code in the local range and no later pull touches it."""

from __future__ import annotations

import io
import re
from datetime import date

import pytest
import sqlalchemy as sa

from dantoc import create_app
from dantoc.audit.models import AuditEvent
from dantoc.catalogs import services as catalogs
from dantoc.catalogs.importer import ImportRefused, import_file
from dantoc.catalogs.models import AdminUnit, EthnicGroup, UnitType
from dantoc.extensions import db
from dantoc.indicators import services
from dantoc.indicators.models import CatalogueVersion, Form, Indicator, IndicatorGroup
from dantoc.refusal import FieldError, Refusal
from dantoc.sync import pull as sync
from tests.api_support import make_client
from tests.conftest import base_config
from tests.factories import browser, make_user
from tests.factories_submissions import make_questionnaire
from tests.security_tree import build_tree
from tests.test_api_sync import PEER, Transport

MESSAGE = "Bản ghi này lấy từ hệ thống của trung ương nên ở đây chỉ được xem"


@pytest.fixture
def centre(app):
    """The centre (no DANTOC_SYNC_PEER): a unit tree, a questionnaire and its indicators."""
    build_tree()
    make_questionnaire()
    return app, make_client(name="tinh")[1]["Authorization"].removeprefix("Bearer ")


@pytest.fixture
def province(databases, centre):
    """A province configured with its centre, after one pull of every list."""
    url = databases.new()
    app = create_app(base_config(url) | {"SYNC_PEER": PEER})
    centre_app, token = centre
    with app.app_context():
        sync.pull(PEER, token, Transport(centre_app))
        db.session.remove()
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()
    databases.drop(url)


def synced_indicator() -> Indicator:
    return db.session.scalar(sa.select(Indicator).where(Indicator.code == "households"))


def text_of(response) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.get_data(as_text=True)))


def indicator_values(indicator: Indicator, **changes) -> dict:
    values = {"group": indicator.group, "code": indicator.code, "name": indicator.name,
              "value_type": indicator.value_type, "aggregation": indicator.aggregation}
    return values | changes


def audit_count(like: str) -> int:
    return db.session.scalar(sa.select(sa.func.count(AuditEvent.id)).where(
        AuditEvent.action.like(like)))


def test_pull_marks_what_it_copied_and_what_the_centre_also_has(province):
    with province.app_context():
        indicator = synced_indicator()
        assert indicator.synced_from == PEER
        assert indicator.group.synced_from == indicator.group.catalogue_version.synced_from == PEER
        assert db.session.scalar(sa.select(AdminUnit.synced_from).where(
            AdminUnit.code == "ZZB")) == PEER
        assert db.session.scalar(sa.select(Form.synced_from)) == PEER
        # the ethnic groups were here already (reference data): the same rows, adopted
        thai = db.session.scalar(sa.select(EthnicGroup).where(EthnicGroup.code == "03"))
        assert thai.synced_from == PEER
        assert audit_count("sync.ethnic_group.adopt") == db.session.scalar(
            sa.select(sa.func.count(EthnicGroup.id)))


def test_a_province_officer_cannot_edit_a_synced_indicator(province):
    with province.app_context():
        indicator = synced_indicator()
        with pytest.raises(Refusal) as refused:  # the service refuses, for every caller
            services.update_indicator(indicator, **indicator_values(indicator, name="Đổi"))
        assert refused.value.code == "national_record"
        db.session.rollback()
        officer = make_user("province_officer", unit_code="12")
        page = browser(province, officer, locale="vi")
        indicator = synced_indicator()
        url = f"/indicators/{indicator.id}/edit"
        for response in (page.get(url), page.post(url, data={"name": "Đổi", "code": "x"})):
            assert response.status_code == 409
            assert MESSAGE in text_of(response)
        assert synced_indicator().name != "Đổi"
        listing = page.get(f"/indicators/list?version={indicator.catalogue_version_id}")
        assert url not in listing.get_data(as_text=True)  # no edit link for it
        assert "Từ trung ương" in text_of(listing)
        assert "DP_" in text_of(listing)  # the note says which codes are local
        form = db.session.scalar(sa.select(Form))
        refused = page.post(f"/indicators/forms/{form.id}/new-version")
        assert refused.status_code == 409 and MESSAGE in text_of(refused)
        assert len(db.session.scalar(sa.select(Form)).versions) == 1


def test_a_local_indicator_gets_a_local_code_and_stays_editable(province):
    with province.app_context():
        group = synced_indicator().group
        with pytest.raises(FieldError) as outside:
            services.create_indicator(group=group, code="ho_ngheo_moi", name="Hộ nghèo mới",
                                      value_type="integer")
        assert outside.value.field == "code" and "DP_" in str(outside.value)
        db.session.rollback()
        group = synced_indicator().group
        local = services.create_indicator(group=group, code="DP_ho_ngheo_moi",
                                          name="Hộ nghèo mới", value_type="integer")
        db.session.commit()
        assert local.synced_from is None
        officer = make_user("province_officer", unit_code="12")
        page = browser(province, officer, locale="vi")
        url = f"/indicators/{local.id}/edit"
        assert page.get(url).status_code == 200
        saved = page.post(url, data={"group": str(group.id), "code": "DP_ho_ngheo_moi",
                                     "name": "Hộ nghèo mới (tỉnh)", "value_type": "integer",
                                     "aggregation": "sum"})
        assert saved.status_code == 303, text_of(saved)[-600:]
        assert db.session.get(Indicator, local.id).name == "Hộ nghèo mới (tỉnh)"
        # the form's new-indicator page says where the code must start
        created = page.post("/indicators/list/new", data={
            "group": str(group.id), "code": "khong_dau", "name": "Thử", "value_type": "integer",
            "aggregation": "sum"})
        assert created.status_code == 200 and "DP_khong_dau" in text_of(created)


def test_the_centre_keeps_the_local_range_for_the_provinces(app):
    with pytest.raises(FieldError) as refused:
        services.create_catalogue_version(code="dp_2026", name="Bộ chỉ tiêu",
                                          valid_from=date(2026, 1, 1))
    assert refused.value.field == "code"
    version = services.create_catalogue_version(code="TT99-2026", name="Bộ chỉ tiêu",
                                                valid_from=date(2026, 1, 1))
    assert version.synced_from is None


def test_a_sync_pass_after_a_local_addition_leaves_it_alone(centre, province):
    centre_app, token = centre
    with province.app_context():
        group = synced_indicator().group
        local = services.create_indicator(group=group, code="DP_them", name="Chỉ tiêu tỉnh",
                                          value_type="integer")
        zzb = db.session.scalar(sa.select(AdminUnit).where(AdminUnit.code == "ZZB"))
        village_type = db.session.scalar(sa.select(UnitType).where(UnitType.code == "ban"))
        village = catalogs.create_unit(code="ZZB-DP1", name="Bản mới của tỉnh",
                                       unit_type=village_type, parent=zzb,
                                       valid_from=date(2026, 1, 1))
        db.session.commit()
        ids, before = (local.id, village.id), audit_count("sync.%")
        result = sync.pull(PEER, token, Transport(centre_app))
        assert all(c.added == c.changed == c.retired == 0 for c in result.values()), result
        assert audit_count("sync.%") == before  # nothing written, nothing adopted
        db.session.expire_all()
        local, village = db.session.get(Indicator, ids[0]), db.session.get(AdminUnit, ids[1])
        assert (local.name, local.synced_from) == ("Chỉ tiêu tỉnh", None)
        assert (village.name, village.synced_from, village.parent.code) == (
            "Bản mới của tỉnh", None, "ZZB")


def test_units_from_the_centre_are_read_only_and_local_ones_are_not_digits_only(province):
    with province.app_context():
        zzb = db.session.scalar(sa.select(AdminUnit).where(AdminUnit.code == "ZZB"))
        with pytest.raises(Refusal) as refused:
            catalogs.close_unit(zzb, date(2026, 6, 30))
        assert refused.value.code == "national_record"
        db.session.rollback()
        village_type = db.session.scalar(sa.select(UnitType).where(UnitType.code == "ban"))
        zzb = db.session.scalar(sa.select(AdminUnit).where(AdminUnit.code == "ZZB"))
        with pytest.raises(FieldError) as digits:
            catalogs.create_unit(code="99001", name="Bản số", unit_type=village_type,
                                 parent=zzb, valid_from=date(2026, 1, 1))
        assert digits.value.field == "code"
        db.session.rollback()
        admin = make_user("admin", unit_code=None)
        page = browser(province, admin, locale="vi")
        zzb = db.session.scalar(sa.select(AdminUnit).where(AdminUnit.code == "ZZB"))
        detail = page.get(f"/catalogs/units/{zzb.id}")
        assert f"/catalogs/units/{zzb.id}/edit" not in detail.get_data(as_text=True)
        assert "Từ trung ương" in text_of(detail)
        assert page.get(f"/catalogs/units/{zzb.id}/edit").status_code == 409
        closed = page.post(f"/catalogs/units/{zzb.id}/close", data={"valid_to": "2026-06-30"})
        assert closed.status_code == 409 and MESSAGE in text_of(closed)
        assert db.session.get(AdminUnit, zzb.id).valid_to is None


def test_the_catalog_import_refuses_national_rows_line_by_line(province):
    with province.app_context():
        data = "code,code_2008,name\n03,03,Thái (sửa ở tỉnh)\n".encode()
        with pytest.raises(ImportRefused) as refused:
            import_file("ethnic_groups", io.BytesIO(data), "dan_toc.csv")
        assert "trung ương" in str(refused.value.errors[0])
        db.session.rollback()
        assert db.session.scalar(sa.select(EthnicGroup.name).where(
            EthnicGroup.code == "03")) == "Thái"


def test_without_a_centre_nothing_is_national(app):
    make_questionnaire()
    assert db.session.scalar(sa.select(sa.func.count(Indicator.id)).where(
        Indicator.synced_from.is_not(None))) == 0
    assert db.session.scalar(sa.select(sa.func.count(IndicatorGroup.id))) > 0
    assert db.session.scalar(sa.select(CatalogueVersion.synced_from)) is None
