"""Catalogue versions (the real legal chain), disaggregations, and the sample catalogue
``LC-DEMO`` with the demo questionnaire's indicators and rules."""

from __future__ import annotations

from datetime import date

import sqlalchemy as sa

from ..catalogs.models import Department
from ..extensions import db
from ..indicators import services
from ..indicators.models import CatalogueVersion, Disaggregation, Indicator, IndicatorGroup

DEMO_CATALOGUE = "LC-DEMO"

#: code, name, legal basis and notes, valid from, valid to (see docs/domain.md §4.1).
CATALOGUE_VERSIONS = (
    ("TT06-2014", "Hệ thống chỉ tiêu thống kê công tác dân tộc (TT 06/2014/TT-UBDT)",
     "Thông tư 06/2014/TT-UBDT ngày 10/12/2014, hiệu lực 01/02/2015; 16 nhóm, 119 chỉ tiêu "
     "(danh mục chi tiết chưa nhập). Ngày hết hiệu lực chưa xác minh: lấy ngày ký TT 03/2019.",
     date(2015, 2, 1), date(2019, 12, 24)),
    ("TT03-2019", "Hệ thống chỉ tiêu thống kê công tác dân tộc (TT 03/2019/TT-UBDT) — "
     "nội dung chưa thu thập",
     "Thông tư 03/2019/TT-UBDT ngày 25/12/2019. Nội dung văn bản chưa thu thập được; ngày "
     "hiệu lực chưa xác minh (lấy ngày ký).",
     date(2019, 12, 25), date(2025, 6, 30)),
    ("TT06-2025", "Hệ thống chỉ tiêu thống kê công tác dân tộc, tín ngưỡng, tôn giáo "
     "(TT 06/2025/TT-BDTTG)",
     "Thông tư 06/2025/TT-BDTTG ngày 25/06/2025, hiệu lực 01/07/2025. Phụ lục danh mục chỉ "
     "tiêu chưa thu thập được.",
     date(2025, 7, 1), None),
    (DEMO_CATALOGUE, "Bộ chỉ tiêu mẫu của tỉnh Lai Châu (mẫu, để trình diễn)",
     "Dữ liệu mẫu tự tạo, KHÔNG phải chỉ tiêu chính thức: phụ lục TT 06/2025/TT-BDTTG chưa "
     "thu thập được. Nhóm theo 11 nhóm nội dung điều tra 53 DTTS (QĐ 02/QĐ-TTg).",
     date(2025, 7, 1), None),
)

#: group code, name (a content group of the 53-minority survey), owning department code.
GROUPS = (
    ("G01", "Dân số và phân bố dân cư (mẫu)", "demo-csdt"),
    ("G02", "Tiếp cận cơ sở hạ tầng (mẫu)", "demo-khth"),
    ("G03", "Nghèo đói, an sinh xã hội (mẫu)", "demo-csdt"),
    ("G04", "Giáo dục, đào tạo (mẫu)", "demo-khth"),
    ("G05", "Y tế và vệ sinh môi trường (mẫu)", "demo-khth"),
    ("G06", "Văn hóa, xã hội (mẫu)", "demo-csdt"),
    ("G07", "Tôn giáo, tín ngưỡng (mẫu)", "demo-tg"),
    ("G08", "An ninh nông thôn (mẫu)", "demo-vp"),
)

_HOUSEHOLDS = {"value_type": "integer", "unit_of_measure": "hộ", "min_value": 0}
#: group code, indicator code, name, attributes.
INDICATORS = (
    ("G01", "households", "Tổng số hộ", {**_HOUSEHOLDS, "required": True}),
    ("G01", "population", "Số nhân khẩu (theo dân tộc và giới tính)",
     {"value_type": "integer", "unit_of_measure": "người", "min_value": 0, "required": True,
      "disaggregations": ("ethnic_group", "sex")}),
    ("G02", "households_with_power", "Số hộ được sử dụng điện", _HOUSEHOLDS),
    ("G02", "households_with_clean_water", "Số hộ được sử dụng nước sinh hoạt hợp vệ sinh",
     _HOUSEHOLDS),
    ("G02", "road_hardened", "Đường từ thôn đến trung tâm xã đã được cứng hóa",
     {"value_type": "yes_no"}),
    ("G02", "distance_to_commune_km", "Khoảng cách từ thôn đến trung tâm xã",
     {"value_type": "decimal", "unit_of_measure": "km", "min_value": 0, "max_value": 200,
      "aggregation": "average"}),
    ("G02", "households_with_phone", "Số hộ có điện thoại", _HOUSEHOLDS),
    ("G02", "households_with_internet", "Số hộ có kết nối Internet", _HOUSEHOLDS),
    ("G03", "poor_households", "Số hộ nghèo", {**_HOUSEHOLDS, "required": True}),
    ("G03", "near_poor_households", "Số hộ cận nghèo", {**_HOUSEHOLDS, "required": True}),
    # A derived indicator: computed from each unit's totals, never entered nor averaged.
    ("G03", "poor_household_rate", "Tỷ lệ hộ nghèo",
     {"value_type": "percent", "unit_of_measure": "%", "aggregation": "none",
      "formula": "poor_households / households * 100",
      "concept": "Tỷ lệ phần trăm số hộ nghèo trong tổng số hộ của địa bàn.",
      "method": "Số hộ nghèo chia cho tổng số hộ, nhân 100, tính trên số liệu đã tổng hợp "
                "của từng đơn vị (không lấy bình quân tỷ lệ của các thôn).",
      "publication_period": "Năm"}),
    ("G04", "has_school", "Có trường hoặc điểm trường tại thôn", {"value_type": "yes_no"}),
    ("G05", "health_access", "Tiếp cận cơ sở y tế gần nhất",
     {"value_type": "choice", "choices": (
         ("in_village", "Có nhân viên y tế thôn, bản"),
         ("under_5km", "Trạm y tế xã cách dưới 5 km"),
         ("from_5_to_10km", "Trạm y tế xã cách từ 5 đến dưới 10 km"),
         ("over_10km", "Trạm y tế xã cách từ 10 km trở lên"))}),
    ("G06", "has_cultural_house", "Có nhà văn hóa thôn, bản", {"value_type": "yes_no"}),
    ("G07", "religious_followers", "Số người theo tôn giáo",
     {"value_type": "integer", "unit_of_measure": "người", "min_value": 0}),
    ("G08", "security_incidents", "Số vụ việc về an ninh, trật tự",
     {"value_type": "integer", "unit_of_measure": "vụ", "min_value": 0}),
)

#: code, expression, message, severity.
RULES = (
    ("poor_le_households", "poor_households <= households",
     "Số hộ nghèo không được lớn hơn tổng số hộ.", "error"),
    ("near_poor_le_households", "near_poor_households <= households",
     "Số hộ cận nghèo không được lớn hơn tổng số hộ.", "error"),
    ("poor_near_poor_le_households", "poor_households + near_poor_households <= households",
     "Số hộ nghèo cộng số hộ cận nghèo không được lớn hơn tổng số hộ.", "error"),
    ("power_le_households", "households_with_power <= households",
     "Số hộ có điện không được lớn hơn tổng số hộ.", "error"),
    ("water_le_households", "households_with_clean_water <= households",
     "Số hộ có nước sạch không được lớn hơn tổng số hộ.", "error"),
    ("phone_le_households", "households_with_phone <= households",
     "Số hộ có điện thoại không được lớn hơn tổng số hộ.", "error"),
    ("internet_le_households", "households_with_internet <= households",
     "Số hộ có Internet không được lớn hơn tổng số hộ.", "error"),
    ("households_le_population", "households <= population",
     "Số hộ thường không lớn hơn số nhân khẩu: hãy kiểm tra lại.", "warning"),
    ("followers_le_population", "religious_followers <= population",
     "Số người theo tôn giáo không được lớn hơn số nhân khẩu.", "error"),
)


def _by_code(model, code: str, **where):
    query = sa.select(model).where(model.code == code)
    for name, value in where.items():
        query = query.where(getattr(model, name) == value)
    return db.session.scalar(query)


def seed_catalogue_versions() -> dict[str, CatalogueVersion]:
    """The catalogue versions, by code (created where missing)."""
    return {code: _by_code(CatalogueVersion, code) or services.create_catalogue_version(
        code=code, name=name, legal_basis=notes, valid_from=start, valid_to=end)
        for code, name, notes, start, end in CATALOGUE_VERSIONS}


def seed_disaggregations() -> dict[str, Disaggregation]:
    """Sex (fixed options) and ethnic group (from the catalog), by code."""
    sex = _by_code(Disaggregation, "sex") or services.create_disaggregation(
        code="sex", name="Giới tính", options=(("male", "Nam"), ("female", "Nữ")))
    ethnic = _by_code(Disaggregation, "ethnic_group") or services.create_disaggregation(
        code="ethnic_group", name="Dân tộc", source="ethnic_groups")
    return {"sex": sex, "ethnic_group": ethnic}


def seed_catalogue(departments: dict[str, Department]) -> CatalogueVersion:
    """All catalogue versions, and the sample catalogue's groups, indicators and rules."""
    version = seed_catalogue_versions()[DEMO_CATALOGUE]
    disaggregations = seed_disaggregations()
    groups = {}
    for position, (code, name, department) in enumerate(GROUPS, start=1):
        groups[code] = _by_code(IndicatorGroup, code, catalogue_version_id=version.id) or \
            services.create_group(catalogue_version=version, code=code, name=name,
                                  department=departments[department], position=position)
    for group, code, name, attributes in INDICATORS:
        if _by_code(Indicator, code, catalogue_version_id=version.id) is None:
            extra = dict(attributes)
            extra["disaggregations"] = [disaggregations[d] for d in
                                        extra.pop("disaggregations", ())]
            services.create_indicator(group=groups[group], code=code, name=name, **extra)
    existing = {rule.code for rule in services.rules_of(version.id)}
    for code, expression, message, severity in RULES:
        if code not in existing:
            services.create_rule(catalogue_version=version, code=code, expression=expression,
                                 message=message, severity=severity)
    return version
