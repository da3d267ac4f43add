"""The one clock: aware UTC moments, and the day in the province's time zone."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from dantoc import clock, create_app
from tests.conftest import base_config


def _app(zone: str):
    return create_app({**base_config("sqlite://"), "BABEL_DEFAULT_TIMEZONE": zone})


def test_now_is_aware_utc():
    moment = clock.now()
    assert moment.tzinfo is not None and moment.utcoffset() == timedelta(0)
    assert abs(datetime.now(UTC) - moment) < timedelta(seconds=5)


def test_today_is_the_day_in_the_configured_time_zone():
    with _app("Pacific/Kiritimati").app_context():  # UTC+14
        east = clock.today()
    with _app("Pacific/Pago_Pago").app_context():  # UTC-11: always one or two days behind
        west = clock.today()
    assert 1 <= (east - west).days <= 2


def test_local_day_reads_a_utc_moment_in_the_province():
    late_evening_utc = datetime(2026, 3, 31, 18, 0, tzinfo=UTC)  # 01:00 on 1 April in Hà Nội
    with _app("Asia/Ho_Chi_Minh").app_context():
        assert clock.local_day(late_evening_utc) == date(2026, 4, 1)
        assert clock.local_day(late_evening_utc.replace(tzinfo=None)) == date(2026, 4, 1)
