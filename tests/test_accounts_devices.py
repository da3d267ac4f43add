"""Village heads: activation codes (one-time, expiring, hashed), phone enrolment with a PIN,
PIN unlock with strict limits, and revocation that ends the phone's session at once."""

import re
from datetime import timedelta

import pytest
import sqlalchemy as sa

from dantoc.accounts.devices import device_cookie_name
from dantoc.accounts.models import ActivationCode, Device
from dantoc.accounts.passwords import PRODUCTION_COST, sha256
from dantoc.audit.models import AuditEvent
from dantoc.clock import now
from dantoc.extensions import db
from tests.security_tree import Clock, build_tree, fresh_client, make, sign_in

PIN = "2580"


@pytest.fixture
def tree(app):
    return build_tree()


@pytest.fixture
def officer(app, tree):
    client = fresh_client(app)
    user = make("commune_officer", tree["B"])
    sign_in(client, user)
    client.user = user
    return client


@pytest.fixture
def head(tree):
    return make("village_head", tree["C"], password=False)


def issue(officer, head) -> str:
    response = officer.post(f"/accounts/users/{head.id}/activation")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    return re.search(r"<strong>([A-Z0-9-]{14})</strong>", html).group(1)


def enrol(app, code, pin=PIN, **extra):
    phone = fresh_client(app)
    response = phone.post("/accounts/activate", data={"code": code, "pin": pin,
                                                      "pin_confirm": pin, **extra})
    return phone, response


def count(model, *where):
    return db.session.scalar(sa.select(sa.func.count()).select_from(model).where(*where))


def field_error(response) -> bool:
    return b'aria-invalid="true"' in response.data


def test_the_code_is_shown_as_text_link_and_qr_but_stored_only_as_a_hash(app, officer, head):
    response = officer.post(f"/accounts/users/{head.id}/activation")
    html = response.get_data(as_text=True)
    code = re.search(r"<strong>([A-Z0-9-]{14})</strong>", html).group(1)
    assert f"/accounts/activate?code={code}" in html
    svg = html[html.index("<svg"):html.index("</svg>")]
    assert "<path" in svg and "script" not in svg and "http" not in svg.replace(
        "http://www.w3.org/2000/svg", "")
    assert response.headers["Cache-Control"] == "no-store"
    [row] = db.session.scalars(sa.select(ActivationCode)).all()
    assert row.code_hash == sha256(code.replace("-", ""))
    hours = (row.expires_at - row.created_at).total_seconds() / 3600
    assert hours == pytest.approx(72, abs=0.01)
    assert [e.action for e in db.session.scalars(sa.select(AuditEvent))][-1] == (
        "user.activation_issue")


def test_the_link_fills_in_the_code(app, officer, head):
    code = issue(officer, head)
    page = fresh_client(app).get(f"/accounts/activate?code={code}").get_data(as_text=True)
    assert f'value="{code}"' in page


def test_enrolment_sets_a_device_cookie_and_signs_in(app, officer, head):
    code = issue(officer, head)
    phone, response = enrol(app, code.lower().replace("-", " "), device_name="Điện thoại A")
    assert response.status_code == 303
    cookie = next(c for c in response.headers.getlist("Set-Cookie")
                  if c.startswith(device_cookie_name() + "="))
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Max-Age=15552000" in cookie
    token = phone.get_cookie(device_cookie_name()).value
    [device] = db.session.scalars(sa.select(Device)).all()
    assert (device.user_id, device.name, device.token_hash) == (head.id, "Điện thoại A",
                                                                sha256(token))
    assert device.pin_hash.startswith("$argon2id$")
    assert phone.get("/accounts/me").status_code == 200


@pytest.mark.parametrize("case", ["reused", "expired", "unknown", "retired"])
def test_unusable_codes_get_a_clear_message_and_enrol_nothing(app, officer, head, case):
    code = issue(officer, head)
    if case == "reused":
        enrol(app, code)
    elif case == "expired":
        db.session.execute(sa.update(ActivationCode).values(expires_at=now() -
                                                             timedelta(minutes=1)))
        db.session.commit()
    elif case == "unknown":
        code = "AAAA-BBBB-CCCC"
    else:  # a newer code replaces an older unused one
        issue(officer, head)
    devices_before = count(Device)
    phone, response = enrol(app, code)
    assert response.status_code == 200 and field_error(response)
    assert count(Device) == devices_before
    assert phone.get("/accounts/me").status_code == 302
    [failure] = db.session.scalars(sa.select(AuditEvent).where(
        AuditEvent.action == "auth.activation_failed")).all()
    reason = {"reused": "used", "retired": "used"}.get(case, case.replace("unknown", "invalid"))
    assert failure.after == {"reason": reason}


@pytest.mark.parametrize(("pin", "confirm"), [("1234", "1234"), ("12", "12"),
                                              ("2580", "2581"), ("abcd", "abcd")])
def test_a_bad_pin_keeps_the_code_usable(app, officer, head, pin, confirm):
    code = issue(officer, head)
    phone = fresh_client(app)
    response = phone.post("/accounts/activate", data={"code": code, "pin": pin,
                                                      "pin_confirm": confirm})
    assert response.status_code == 200 and field_error(response)
    assert count(ActivationCode, ActivationCode.used_at.is_(None)) == 1
    assert enrol(app, code)[1].status_code == 303


def test_activation_attempts_are_throttled_per_address(app):
    phone = fresh_client(app)
    statuses = [phone.post("/accounts/activate", data={
        "code": f"AAAA-BBBB-{i:04d}", "pin": PIN, "pin_confirm": PIN}).status_code
        for i in range(11)]
    assert statuses == [200] * 10 + [429]


def _expire_session(phone):
    with phone.session_transaction() as session:
        session.clear()


def test_the_pin_unlocks_the_phone_on_return(app, officer, head):
    phone, _response = enrol(app, issue(officer, head))
    _expire_session(phone)
    login = phone.get("/accounts/login?next=/accounts/me")
    assert login.status_code == 303 and login.headers["Location"].startswith("/accounts/unlock")
    wrong = phone.post("/accounts/unlock", data={"pin": "9999"})
    assert wrong.status_code == 200 and field_error(wrong)
    assert db.session.scalar(sa.select(Device.failed_pins)) == 1
    right = phone.post("/accounts/unlock?next=/accounts/me", data={"pin": PIN})
    assert right.status_code == 303 and right.headers["Location"] == "/accounts/me"
    assert db.session.scalar(sa.select(Device.failed_pins)) == 0
    assert phone.get("/accounts/me").status_code == 200
    actions = [e.action for e in db.session.scalars(sa.select(AuditEvent).order_by(
        AuditEvent.id))]
    assert actions[-2:] == ["auth.pin_failed", "auth.unlock"]


def test_a_cheap_pin_hash_is_replaced_at_unlock_when_the_production_cost_applies(app, officer,
                                                                                  head):
    phone, _response = enrol(app, issue(officer, head))
    assert db.session.scalar(sa.select(Device.pin_hash)).startswith("$argon2id$v=19$m=8,t=1,p=1$")
    _expire_session(phone)
    app.config.update(PRODUCTION_COST.as_config())  # the same database, production's cost
    assert phone.post("/accounts/unlock", data={"pin": PIN}).status_code == 303
    assert db.session.scalar(sa.select(Device.pin_hash)).startswith(
        "$argon2id$v=19$m=65536,t=3,p=4$")
    actions = [(e.action, e.after) for e in db.session.scalars(sa.select(AuditEvent).order_by(
        AuditEvent.id))]
    assert actions[-2:] == [("auth.rehash", {"secret": "pin", "cost": [65536, 3, 4]}),
                            ("auth.unlock", None)]


def test_pin_attempts_are_strictly_limited_and_the_window_slides(app, officer, head,
                                                                 monkeypatch):
    clock = Clock(monkeypatch)
    phone, _response = enrol(app, issue(officer, head))
    _expire_session(phone)
    statuses = [phone.post("/accounts/unlock", data={"pin": "9999"}).status_code
                for _ in range(7)]
    assert statuses == [200] * 5 + [429, 429]
    assert db.session.scalar(sa.select(Device.failed_pins)) == 5  # the 429s were not tried
    clock.advance(16)
    assert phone.post("/accounts/unlock", data={"pin": PIN}).status_code == 303


def test_too_many_wrong_pins_revoke_the_phone(app, officer, head, monkeypatch):
    clock = Clock(monkeypatch)
    phone, _response = enrol(app, issue(officer, head))
    _expire_session(phone)
    for _ in range(2):
        for _ in range(5):
            response = phone.post("/accounts/unlock", data={"pin": "9999"})
        clock.advance(16)
    assert response.status_code == 303 and response.headers["Location"] == "/accounts/activate"
    device = db.session.scalar(sa.select(Device))
    assert device.failed_pins == 10 and device.revoked_at is not None
    assert phone.post("/accounts/unlock", data={"pin": PIN}).status_code == 303
    assert phone.get("/accounts/me").status_code == 302  # a new activation is needed


def test_revoking_the_phone_ends_its_session_at_once(app, officer, head):
    phone, _response = enrol(app, issue(officer, head))
    device = db.session.scalar(sa.select(Device))
    assert phone.get("/accounts/me").status_code == 200
    response = officer.post(f"/accounts/users/{head.id}/devices/{device.id}/revoke")
    assert response.status_code == 303
    assert phone.get("/accounts/me").status_code == 302
    assert phone.get("/accounts/unlock").headers["Location"] == "/accounts/activate"


def test_reset_pin_revokes_every_phone_and_issues_a_new_code(app, officer, head):
    old_code = issue(officer, head)
    phone, _response = enrol(app, old_code)
    response = officer.post(f"/accounts/users/{head.id}/reset-pin")
    new_code = re.search(r"<strong>([A-Z0-9-]{14})</strong>", response.get_data(
        as_text=True)).group(1)
    assert phone.get("/accounts/me").status_code == 302
    assert count(Device, Device.revoked_at.is_(None)) == 0
    assert enrol(app, old_code)[1].status_code == 200
    assert enrol(app, new_code)[1].status_code == 303
    [reset] = db.session.scalars(sa.select(AuditEvent).where(
        AuditEvent.action == "user.pin_reset")).all()
    assert len(reset.after["devices_revoked"]) == 1


def test_sign_out_and_forget_this_phone(app, officer, head):
    phone, _response = enrol(app, issue(officer, head))
    response = phone.post("/accounts/logout", data={"forget": "y"})
    assert response.status_code == 303
    assert db.session.scalar(sa.select(Device.revoked_at)) is not None
    assert phone.get_cookie(device_cookie_name()) is None


def test_a_plain_sign_out_keeps_the_phone_enrolled(app, officer, head):
    phone, _response = enrol(app, issue(officer, head))
    phone.post("/accounts/logout")
    assert phone.get("/accounts/login").headers["Location"].startswith("/accounts/unlock")
    assert phone.post("/accounts/unlock", data={"pin": PIN}).status_code == 303


def test_officers_cannot_issue_codes_outside_their_commune(app, tree, officer):
    other = make("village_head", tree["X"], password=False)
    response = officer.post(f"/accounts/users/{other.id}/activation")
    assert response.status_code == 403
    assert count(ActivationCode) == 0
    [denied] = db.session.scalars(sa.select(AuditEvent).where(
        AuditEvent.action == "authz.denied")).all()
    assert (denied.actor_id, denied.object_id) == (officer.user.id, str(other.id))
