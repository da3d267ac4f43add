"""Reminders: who is late, one reminder per village a day (a DB constraint), the outbox sent
to a local eSMS-like sink and a local SMTP server, retries with backoff then failed, quiet
hours, a killed worker without loss or duplicate, messages in the recipient's language."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from datetime import time as clock_time

import pytest
import sqlalchemy as sa

from dantoc import clock
from dantoc.audit.models import AuditEvent
from dantoc.extensions import db
from dantoc.indicators.models import Period
from dantoc.paths import ROOT
from dantoc.reminders import planner, sender
from dantoc.reminders.models import (
    EMAIL,
    FAILED,
    PENDING,
    SENDING,
    SENT,
    SMS,
    UNSURE,
    Reminder,
    ReminderMessage,
)
from tests import forks
from tests.factories import make_user
from tests.factories_submissions import (
    entry_url,
    make_questionnaire,
    make_village,
    make_village_head,
    post,
    typical_answers,
)
from tests.sinks import DUPLICATE, MailSink, SmsSink

WORKER = "test-worker"


def at(hour: int, minute: int = 0, days: int = 0) -> datetime:
    """Today at hour:minute province time, as UTC."""
    local = datetime.combine(clock.today() + timedelta(days=days), clock_time(hour, minute),
                             tzinfo=clock.zone())
    return local.astimezone(UTC)


@pytest.fixture
def sms(app):
    sink = SmsSink()
    app.config.update(SMS_GATEWAY="esms", SMS_GATEWAY_URL=sink.start(), SMS_API_KEY="k",
                      SMS_SECRET_KEY="s", SMS_BRANDNAME="DANTOC",
                      SMS_ALREADY_SENT_CODES=DUPLICATE, REMINDER_SEND_TIMEOUT=1)
    yield sink
    sink.stop()


@pytest.fixture
def mail(app):
    sink = MailSink()
    app.config.update(SMTP_HOST="127.0.0.1", SMTP_PORT=sink.start(),
                      MAIL_FROM="dantoc@laichau.example")
    yield sink
    sink.stop()


class Province:
    """Four villages of commune 03388 and a village form due in two days: A (head in
    English) and B (head, no language chosen: Vietnamese) late; C has sent its report;
    D has no head with a phone (its commune officer is e-mailed)."""

    def __init__(self, app, login):
        self.version = make_questionnaire()
        day = clock.today()
        self.period = Period(period_type="year", code="2026", name="Năm 2026",
                             start_date=day.replace(month=1, day=1),
                             end_date=day.replace(month=12, day=31),
                             opens_on=day - timedelta(days=20), closes_on=day + timedelta(days=2))
        db.session.add(self.period)
        self.villages = {name: make_village() for name in "ABCD"}
        self.heads = {}
        for name, locale, phone in (("A", "en", "0912000001"), ("B", None, "0912000002"),
                                    ("C", "en", "0912000003"), ("D", "vi", None)):
            self.heads[name] = make_village_head(self.villages[name], locale=locale)
            self.heads[name].phone = phone
        self.officer = make_user("commune_officer", unit_code="03388")
        self.officer.email = "officer@laichau.example"
        self.officer.locale = "en"
        db.session.commit()
        client = login(self.heads["C"])
        response = post(client, entry_url(self.villages["C"], self.version, self.period),
                        typical_answers(self.version), key="5f0e7f2c-6a55-4a37-9b1a-3b2d6c1e0c01")
        assert response.status_code == 303

    def phone(self, name: str) -> str:
        return self.heads[name].phone


@pytest.fixture
def province(app, login):
    app.config.update(REMINDER_QUIET_HOURS="21:00-07:00", REMINDER_DAYS_BEFORE=3)
    return Province(app, login)


def aware(moment: datetime) -> datetime:
    """SQLite gives back naive UTC datetimes."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def messages() -> list[ReminderMessage]:
    return list(db.session.scalars(sa.select(ReminderMessage).order_by(ReminderMessage.id)
                                   .execution_options(populate_existing=True)))


def audit(action: str) -> int:
    return db.session.scalar(sa.select(sa.func.count(AuditEvent.id))
                             .where(AuditEvent.action == action))


def test_a_due_period_sends_one_sms_per_late_village_and_mails_the_officer(
        app, province, sms, mail):
    assert planner.plan(at(9)) == 3  # A, B and D; C has sent its report
    assert sender.send_due(WORKER, at(9, 5)) == 3
    assert sorted(m["Phone"] for m in sms.accepted) == [province.phone("A"), province.phone("B")]
    assert all(m["SmsType"] == "2" and m["Brandname"] == "DANTOC" and m["RequestId"]
               for m in sms.accepted)
    by_phone = {m["Phone"]: m["Content"] for m in sms.accepted}
    assert by_phone[province.phone("A")].startswith("Reminder: ")  # the head's English
    assert by_phone[province.phone("B")].startswith("Nhắc ")  # no choice: Vietnamese
    deadline = province.period.closes_on.strftime("%d/%m/%Y")
    assert deadline in by_phone[province.phone("A")]
    [(to, message)] = mail.messages
    assert to == ["officer@laichau.example"]
    assert "enter the report on the village's behalf" in message.get_content()
    assert all(m.state == SENT and m.attempts == 1 for m in messages())
    assert {m.channel for m in messages()} == {SMS, EMAIL}
    assert audit("reminder.queued") == 3 and audit("reminder.sent") == 3


def test_at_most_one_reminder_per_village_a_day(app, province, sms):
    assert planner.plan(at(9)) == 3
    assert planner.plan(at(15)) == 0  # the same day: nobody again
    sender.send_due(WORKER, at(15))
    assert len(sms.requests) == 2
    first = db.session.scalars(sa.select(Reminder)).first()
    with pytest.raises(sa.exc.IntegrityError):
        db.session.add(Reminder(unit_id=first.unit_id, form_id=first.form_id,
                                period_id=first.period_id, day=first.day,
                                closes_on=first.closes_on))
        db.session.flush()
    db.session.rollback()
    assert planner.plan(at(9, days=1)) == 3  # the next day, the late ones again


def test_quiet_hours_hold_messages_until_morning(app, province, sms):
    assert planner.plan(at(22, 30)) == 3
    morning = at(7, days=1)
    assert {aware(m.next_try_at) for m in messages()} == {morning}
    assert sender.send_due(WORKER, at(23, 59)) == 0
    assert sender.send_due(WORKER, at(6, 59, days=1)) == 0
    assert sms.requests == []
    assert sender.send_due(WORKER, at(7, 1, days=1)) == 2
    assert len(sms.accepted) == 2


def test_a_refusing_gateway_is_retried_with_backoff_then_failed(app, province, sms, login):
    app.config.update(REMINDER_MAX_ATTEMPTS=3, REMINDER_BACKOFF_SECONDS=60)
    sms.mode = "refuse"
    planner.plan(at(9))
    moment = at(9)
    for attempt, delay in ((1, 60), (2, 120)):
        sender.send_due(WORKER, moment)
        pending = [m for m in messages() if m.channel == SMS]
        assert {(m.state, m.attempts) for m in pending} == {(PENDING, attempt)}
        assert {aware(m.next_try_at) for m in pending} == {moment + timedelta(seconds=delay)}
        assert sender.send_due(WORKER, moment + timedelta(seconds=delay - 1)) == 0  # not yet
        moment += timedelta(seconds=delay)
    sender.send_due(WORKER, moment)
    failed = [m for m in messages() if m.channel == SMS]
    assert {(m.state, m.attempts) for m in failed} == {(FAILED, 3)}
    assert "CodeResult 99" in failed[0].last_error
    assert len(sms.requests) == 6 and sms.accepted == []
    assert audit("reminder.failed") == 2
    page = login(province.officer).get("/reminders/", headers={"Accept-Language": "en"})
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and html.count('class="failed"') == 2
    assert "after 3 attempts" in html


def test_a_gateway_that_times_out_is_retried(app, province, sms):
    sms.mode, sms.delay = "hang", 2.5
    planner.plan(at(9))
    sender.send_due(WORKER, at(9))
    sent = [m for m in messages() if m.channel == SMS]
    assert {(m.state, m.attempts) for m in sent} == {(PENDING, 1)}
    assert "timed out" in sent[0].last_error


def test_a_message_claimed_by_a_dead_worker_is_sent_once(app, province, sms):
    planner.plan(at(9))
    target = next(m for m in messages() if m.channel == SMS)
    # A worker claimed it, sent it, and died before recording it: the gateway has it.
    stale = at(9) - timedelta(seconds=app.config["REMINDER_CLAIM_SECONDS"] + 1)
    db.session.execute(sa.update(ReminderMessage).where(ReminderMessage.id == target.id)
                       .values(state=SENDING, claimed_by="dead", claimed_at=stale,
                               handed_over_at=stale, attempts=1))
    db.session.commit()
    sms.accepted.append({"RequestId": target.key[:50], "Phone": target.recipient})
    assert sender.send_due(WORKER, at(9)) == 2
    # Given again with the same RequestId, answered "duplicate" (DUPLICATE): counted as sent.
    assert [m["RequestId"] for m in sms.requests].count(target.key[:50]) == 1
    assert [m["RequestId"] for m in sms.accepted].count(target.key[:50]) == 1
    assert len(sms.accepted) == 2
    assert all(m.state == SENT for m in messages() if m.channel == SMS)
    assert next(m for m in messages() if m.id == target.id).provider_id == target.key


def test_a_duplicate_answer_to_a_first_request_is_not_taken_for_sent(app, province, sms):
    """The RequestId was used by another message (another installation on the account):
    eSMS drops ours; counting it as sent would hide a reminder that never left."""
    planner.plan(at(9))
    target = next(m for m in messages() if m.channel == SMS)
    sms.accepted.append({"RequestId": target.key[:50], "Phone": "0999999999"})
    sender.send_due(WORKER, at(9))
    row = next(m for m in messages() if m.id == target.id)
    assert row.state == PENDING and "used before by another message" in row.last_error
    keys = [m.key for m in messages()]
    assert len(set(keys)) == len(keys) and all(len(k) == 32 for k in keys)  # random, unique


def test_an_sms_handed_over_too_long_ago_is_not_sent_again(app, province, sms):
    """eSMS forgets a RequestId after 24 hours: past SMS_DEDUPE_HOURS a second request
    could be a second SMS, so the message is marked unsure instead."""
    planner.plan(at(9))
    target = next(m for m in messages() if m.channel == SMS)
    long_ago = at(9) - timedelta(hours=app.config["SMS_DEDUPE_HOURS"], minutes=1)
    db.session.execute(sa.update(ReminderMessage).where(ReminderMessage.id == target.id)
                       .values(state=SENDING, claimed_by="dead", claimed_at=long_ago,
                               handed_over_at=long_ago, attempts=1))
    db.session.commit()
    assert sender.send_due(WORKER, at(9)) == 1  # the other village's SMS only
    assert target.key[:50] not in [m["RequestId"] for m in sms.requests]
    assert next(m for m in messages() if m.id == target.id).state == UNSURE
    assert audit("reminder.unsure") == 1


def _dead_mail_worker(app, handed: bool) -> ReminderMessage:
    planner.plan(at(9))
    target = next(m for m in messages() if m.channel == EMAIL)
    stale = at(9) - timedelta(seconds=app.config["REMINDER_CLAIM_SECONDS"] + 1)
    db.session.execute(sa.update(ReminderMessage).where(ReminderMessage.id == target.id)
                       .values(state=SENDING, claimed_by="dead", claimed_at=stale, attempts=1,
                               handed_over_at=stale if handed else None))
    db.session.commit()
    return target


def test_an_email_handed_over_by_a_dead_worker_is_not_sent_again(app, province, mail, login):
    target = _dead_mail_worker(app, handed=True)
    sender.send_due(WORKER, at(9))
    assert mail.messages == []  # not resent: the server may have it already
    row = next(m for m in messages() if m.id == target.id)
    assert row.state == UNSURE and row.attempts == 2 and row.sent_at is None
    assert audit("reminder.unsure") == 1
    sender.send_due(WORKER, at(9, 30))
    assert mail.messages == []  # and never later either
    page = login(province.officer).get("/reminders/", headers={"Accept-Language": "en"})
    assert "May have been sent" in page.get_data(as_text=True)


def test_an_email_whose_worker_died_before_handing_it_over_is_sent_once(app, province, mail):
    target = _dead_mail_worker(app, handed=False)
    assert sender.send_due(WORKER, at(9)) == 1
    [(_to, message)] = mail.messages
    assert message["Message-ID"] == f"<{target.key}@laichau.example>"  # stable per message
    row = next(m for m in messages() if m.id == target.id)
    assert row.state == SENT and row.handed_over_at is not None


def test_no_answer_after_the_mail_data_leaves_it_unsure_not_resent(app, province, mail):
    """RFC 1047: the server got the message but its answer never came (timeout). A retry
    would be a second e-mail; the message is marked unsure instead."""
    mail.delay = 3  # the server answers the final dot after the client's 1 s timeout
    app.config["REMINDER_SEND_TIMEOUT"] = 1
    planner.plan(at(9))
    sender.send_due(WORKER, at(9))
    assert len(mail.messages) == 1  # it did arrive
    row = next(m for m in messages() if m.channel == EMAIL)
    assert row.state == UNSURE and "SMTP" in row.last_error
    mail.delay = 0
    sender.send_due(WORKER, at(11))
    assert len(mail.messages) == 1


def test_a_mail_server_that_refuses_the_recipient_is_retried(app, province, mail):
    mail.refuse = True  # 550 to RCPT: an answer, nothing handed over
    planner.plan(at(9))
    sender.send_due(WORKER, at(9))
    row = next(m for m in messages() if m.channel == EMAIL)
    assert row.state == PENDING and row.handed_over_at is None and "550" in row.last_error
    mail.refuse = False
    sender.send_due(WORKER, at(11))
    assert len(mail.messages) == 1


def test_a_mail_server_that_refuses_the_message_after_data_is_retried(app, province, mail):
    """A 5xx answer to the final dot is an answer: the server did not take the message, so
    it is sent again later (and not left unsure)."""
    mail.refuse_data = True
    planner.plan(at(9))
    sender.send_due(WORKER, at(9))
    row = next(m for m in messages() if m.channel == EMAIL)
    assert row.state == PENDING and row.handed_over_at is None and "554" in row.last_error
    mail.refuse_data = False
    assert sender.send_due(WORKER, at(11)) == 1
    assert len(mail.messages) == 1
    assert next(m for m in messages() if m.channel == EMAIL).state == SENT


def sms_states() -> list[str]:
    """The SMS messages' states, the transaction ended (on SQLite every transaction outside
    a request takes the write lock: an open one would stop the worker)."""
    states = [m.state for m in messages() if m.channel == SMS]
    db.session.rollback()
    return states


def _worker(database_url: str, sink_url: str, log) -> forks.Forked | subprocess.Popen:
    env = {**os.environ, "DANTOC_DATABASE_URL": database_url, "DANTOC_ENV": "testing",
           "DANTOC_SECRET_KEY": "test", "DANTOC_SMS_GATEWAY": "esms",
           "DANTOC_SMS_GATEWAY_URL": sink_url, "DANTOC_SMS_ALREADY_SENT_CODES": DUPLICATE,
           "DANTOC_REMINDER_QUIET_HOURS": "", "DANTOC_REMINDER_CLAIM_SECONDS": "2",
           "DANTOC_REMINDER_SEND_TIMEOUT": "10"}
    return forks.Popen([sys.executable, "-m", "flask", "--app", "wsgi", "jobs", "work",
                        "--poll", "0.2", "--name", "killed"], cwd=ROOT, env=env,
                       stdout=log, stderr=log)


def test_the_worker_survives_being_killed_without_loss_or_duplicate(
        app, province, database_url, tmp_path):
    """A real ``flask jobs work`` plans, claims the first SMS and is killed (SIGKILL) while
    the gateway holds its answer; a second worker, once the claim is stale, sends every
    message: each village head has exactly one SMS."""
    sink = SmsSink(mode="slow", delay=30)
    url = sink.start()
    db.session.rollback()
    log_path = tmp_path / "worker.log"
    with open(log_path, "wb") as log:
        _run_kill_and_rerun(sink, url, database_url, log, log_path)
    sms_rows = [m for m in messages() if m.channel == SMS]
    assert {m.state for m in sms_rows} == {SENT}
    assert sorted(m["Phone"] for m in sink.accepted) == sorted(
        [province.phone("A"), province.phone("B")])
    assert db.session.scalar(sa.select(sa.func.count(Reminder.id))) == 3  # planned once a day


def _run_kill_and_rerun(sink, url, database_url, log, log_path):
    workers = []
    try:
        workers.append(_worker(database_url, url, log))
        assert sink.received.wait(60), log_path.read_text()[-3000:]
        workers[0].send_signal(signal.SIGKILL)
        workers[0].wait(10)
        assert len(sink.accepted) == 1
        assert sms_states().count(SENDING) == 1
        sink.mode = "ok"
        time.sleep(2.1)  # the dead worker's claim goes stale
        workers.append(_worker(database_url, url, log))
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and set(sms_states()) != {SENT}:
            time.sleep(0.3)
        workers[1].send_signal(signal.SIGTERM)
        workers[1].wait(20)
    finally:
        for worker in workers:  # never leave a worker behind, even when an assert failed
            if worker.poll() is None:
                worker.kill()
                worker.wait(10)
        sink.stop()


def test_an_administrator_records_where_reminders_go(app, login):
    village = make_village()
    head = make_village_head(village)
    admin = make_user("admin", unit_code=None)
    admin.locale = "en"  # the messages in English, whatever the browser asks (issue 16)
    db.session.commit()
    client = login(admin)
    form = {"full_name": head.full_name, "role_code": "village_head",
            "unit_id": head.unit_id, "department_id": ""}
    bad = client.post(f"/accounts/users/{head.id}/edit", data={**form, "phone": "12345",
                                                                "email": "no-at-sign"})
    assert bad.status_code in (200, 422)
    assert b"10 digits starting with 0" in bad.data and b"ten@laichau.gov.vn" in bad.data
    db.session.refresh(head)
    assert (head.phone, head.email) == (None, None)
    good = client.post(f"/accounts/users/{head.id}/edit", data={
        **form, "phone": "0912 345.678", "email": " truong.ban@laichau.example "})
    assert good.status_code == 303
    db.session.refresh(head)
    assert (head.phone, head.email) == ("0912345678", "truong.ban@laichau.example")
    row = db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == "user.update")
                             .order_by(AuditEvent.id.desc())).first()
    assert (row.before["phone"], row.after["phone"]) == (None, "0912345678")


def test_the_village_head_sees_how_many_days_are_left(app, province, login):
    page = login(province.heads["A"]).get("/entry/").get_data(as_text=True)
    assert "2 days left" in page
    sent = login(province.heads["C"]).get("/entry/").get_data(as_text=True)
    assert "days left" not in sent  # C has sent its report
