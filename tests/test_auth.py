"""Sign-in, sign-out, throttling, forced and voluntary password changes, demo accounts."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from pairing.accounts.models import User
from pairing.audit.models import AuditLog

from . import factories

WRONG = "Wrong e-mail or password, or the account is deactivated."


def _login(client, email, password=factories.PASSWORD, **kw):
    return client.post("/auth/login", data={"email": email, "password": password}, **kw)


def _make(session, **kw):
    user = factories.make_user(session, **kw)
    session.commit()
    return user


def test_sign_in_page_and_successful_sign_in_lands_on_home(client, session):
    user = _make(session, role="staff", email="staff@example.org")
    assert client.get("/auth/login").status_code == 200
    resp = _login(client, "Staff@Example.org ")
    assert resp.status_code == 302
    assert resp.headers["Location"] == "/"
    assert client.get("/").status_code == 200
    session.expire_all()
    assert session.get(User, user.id).last_login_at is not None


def test_principal_lands_on_their_school(client, session):
    school = factories.make_school(session)
    _make(session, role="principal", school=school, email="p@example.org")
    resp = _login(client, "p@example.org")
    assert resp.headers["Location"] == f"/schools/{school.id}"


def test_next_is_followed_only_within_the_site(client, session):
    _make(session, role="official", email="o@example.org")
    resp = _login(client, "o@example.org", query_string={"next": "https://evil.example/"})
    assert resp.headers["Location"] == "/"
    client.post("/auth/logout")
    resp = _login(client, "o@example.org", query_string={"next": "/schools/"})
    assert resp.headers["Location"] == "/schools/"


def test_same_message_for_unknown_email_and_wrong_password(client, session):
    _make(session, role="staff", email="known@example.org")
    unknown = _login(client, "nobody@example.org")
    wrong = _login(client, "known@example.org", "not-the-password")
    assert unknown.status_code == wrong.status_code == 200
    assert WRONG.encode() in unknown.data and WRONG.encode() in wrong.data
    # The pages differ only in the echoed e-mail address.
    assert unknown.data.replace(b"nobody@example.org", b"X") == \
        wrong.data.replace(b"known@example.org", b"X")
    assert client.get("/").status_code == 302


def test_deactivated_user_is_refused(client, session):
    _make(session, role="staff", email="gone@example.org", active=False)
    resp = _login(client, "gone@example.org")
    assert resp.status_code == 200
    assert WRONG.encode() in resp.data
    assert client.get("/").status_code == 302


def test_deactivated_user_session_stops_at_next_request(client, session):
    user = _make(session, role="staff", email="s@example.org")
    _login(client, "s@example.org")
    assert client.get("/").status_code == 200
    session.get(User, user.id).active = False
    session.commit()
    resp = client.get("/")
    assert resp.status_code == 302
    assert "/auth/login" in resp.headers["Location"]


def test_sign_out_is_post_only_and_recorded(client, session):
    user = _make(session, role="staff", email="s@example.org")
    _login(client, "s@example.org")
    assert client.get("/auth/logout").status_code == 405
    assert client.get("/").status_code == 200
    resp = client.post("/auth/logout")
    assert resp.status_code == 302 and resp.headers["Location"] == "/auth/login"
    assert client.get("/").status_code == 302
    actions = session.scalars(select(AuditLog.action).where(AuditLog.entity_id == user.id,
                                                            AuditLog.entity_type == "user")
                              .order_by(AuditLog.id)).all()
    assert actions[-2:] == ["login", "logout"]


def test_sign_in_rows_in_audit_trail(client, session):
    user = _make(session, role="staff", email="s@example.org")
    _login(client, "s@example.org", "wrong-password-1")
    _login(client, "ghost@example.org", "wrong-password-1")
    _login(client, "s@example.org")
    rows = session.scalars(select(AuditLog).where(AuditLog.action.in_(
        ["login", "login_failed"])).order_by(AuditLog.id)).all()
    assert [(r.action, r.entity_id, r.label, r.user_id) for r in rows] == [
        ("login_failed", user.id, "s@example.org", None),
        ("login_failed", None, "ghost@example.org", None),
        ("login", user.id, "s@example.org", user.id),
    ]
    assert rows[2].user_email == "s@example.org"
    assert rows[0].ip == "127.0.0.1"


# --- forced password change ------------------------------------------------------------


def test_temporary_password_must_be_changed_before_anything_else(client, session):
    user = _make(session, role="staff", email="t@example.org", must_change_password=True)
    resp = _login(client, "t@example.org")
    assert resp.headers["Location"] == "/auth/password"
    for url in ("/", "/schools/", "/audit/"):
        resp = client.get(url)
        assert resp.status_code == 302 and resp.headers["Location"] == "/auth/password", url
    assert client.post("/language", data={"lang": "en"}).status_code == 302
    page = client.get("/auth/password")
    assert page.status_code == 200
    assert b"Choose a new password of your own" in page.data
    resp = client.post("/auth/password", data={"current_password": factories.PASSWORD,
                                               "new_password": "a-brand-new-secret",
                                               "confirm": "a-brand-new-secret"})
    assert resp.status_code == 302 and resp.headers["Location"] == "/"
    assert client.get("/").status_code == 200
    session.expire_all()
    fresh = session.get(User, user.id)
    assert fresh.must_change_password is False
    assert fresh.check_password("a-brand-new-secret")
    assert session.scalar(select(AuditLog).where(AuditLog.action == "password_change",
                                                 AuditLog.entity_id == user.id)) is not None


def test_forced_user_cannot_post_elsewhere(client, session):
    _make(session, role="admin", email="t@example.org", must_change_password=True)
    _login(client, "t@example.org")
    resp = client.post("/users/new", data={"email": "x@example.org", "name": "X",
                                           "role": "staff", "password": "temporary-secret-42"})
    assert resp.status_code == 302 and resp.headers["Location"] == "/auth/password"
    assert session.scalar(select(User).where(User.email == "x@example.org")) is None


def test_forced_user_can_still_sign_out(client, session):
    _make(session, role="staff", email="t@example.org", must_change_password=True)
    _login(client, "t@example.org")
    assert client.post("/auth/logout").headers["Location"] == "/auth/login"


@pytest.mark.parametrize("data, message", [
    ({"current_password": "wrong-current-pw", "new_password": "a-brand-new-secret",
      "confirm": "a-brand-new-secret"}, b"The current password is wrong."),
    ({"current_password": factories.PASSWORD, "new_password": "short1",
      "confirm": "short1"}, b"Use at least 10 characters."),
    ({"current_password": factories.PASSWORD, "new_password": "password123",
      "confirm": "password123"}, b"too common or too simple"),
    ({"current_password": factories.PASSWORD, "new_password": "aaaaaaaaaaaa",
      "confirm": "aaaaaaaaaaaa"}, b"too common or too simple"),
    ({"current_password": factories.PASSWORD, "new_password": "a-brand-new-secret",
      "confirm": "another-new-secret"}, b"The two new passwords differ."),
    ({"current_password": factories.PASSWORD, "new_password": factories.PASSWORD,
      "confirm": factories.PASSWORD}, b"different from the current one"),
])
def test_bad_password_changes_are_refused(client, session, data, message):
    user = _make(session, role="official", email="o@example.org")
    old_hash = user.password_hash
    _login(client, "o@example.org")
    resp = client.post("/auth/password", data=data)
    assert resp.status_code == 422
    assert message in resp.data
    session.expire_all()
    assert session.get(User, user.id).password_hash == old_hash


def test_change_password_needs_sign_in(client):
    resp = client.get("/auth/password")
    assert resp.status_code == 302 and "/auth/login" in resp.headers["Location"]


# --- demo accounts -------------------------------------------------------------------


DEMO = [{"email": "demo-staff@example.org", "password": "demo-pass-123", "role": "staff",
         "school_code": None}]


def test_demo_accounts_shown_only_when_demo_data_loaded(client, monkeypatch):
    import pairing.demo

    monkeypatch.setattr(pairing.demo, "DEMO_ACCOUNTS", DEMO, raising=False)
    monkeypatch.setattr(pairing.demo, "demo_loaded", lambda session: False, raising=False)
    resp = client.get("/auth/login")
    assert b"demo-staff@example.org" not in resp.data
    monkeypatch.setattr(pairing.demo, "demo_loaded", lambda session: True, raising=False)
    resp = client.get("/auth/login", headers={"Accept-Language": "en"})
    assert b"demo-staff@example.org" in resp.data and b"demo-pass-123" in resp.data
    assert b"Education department staff" in resp.data or "教育局".encode() in resp.data


def test_sign_in_page_works_without_demo_helpers(client, monkeypatch):
    import pairing.demo

    monkeypatch.delattr(pairing.demo, "DEMO_ACCOUNTS", raising=False)
    monkeypatch.delattr(pairing.demo, "demo_loaded", raising=False)
    assert client.get("/auth/login").status_code == 200


# --- throttling ----------------------------------------------------------------------


class TestThrottling:
    @pytest.fixture
    def app_config(self):
        return {"RATELIMIT_ENABLED": True}

    def test_repeated_failures_for_one_account_get_429(self, client, session):
        _make(session, role="staff", email="victim@example.org")
        for i in range(10):
            resp = _login(client, "victim@example.org", "wrong-password",
                          environ_base={"REMOTE_ADDR": f"10.0.0.{i}"})
            assert resp.status_code == 200
        # From yet another address, even the right password is refused for a while.
        resp = _login(client, "victim@example.org",
                      environ_base={"REMOTE_ADDR": "10.0.1.1"})
        assert resp.status_code == 429
        assert b"Too many attempts" in resp.data
        assert client.get("/").status_code == 302
        # Other accounts are not affected.
        _make(session, role="staff", email="other@example.org")
        resp = _login(client, "other@example.org", environ_base={"REMOTE_ADDR": "10.0.1.2"})
        assert resp.status_code == 302

    def test_repeated_failures_from_one_address_get_429(self, client, session):
        _make(session, role="staff", email="someone@example.org")
        for i in range(10):
            assert _login(client, f"guess{i}@example.org", "wrong-password").status_code == 200
        resp = _login(client, "someone@example.org")
        assert resp.status_code == 429
        assert b"Too many attempts" in resp.data

    def test_successful_sign_ins_do_not_count(self, client, session):
        _make(session, role="staff", email="busy@example.org")
        for _ in range(12):
            assert _login(client, "busy@example.org").status_code == 302
            client.post("/auth/logout")

    def test_guessing_the_current_password_is_throttled(self, client, session):
        user = _make(session, role="official", email="o@example.org")
        _login(client, "o@example.org")
        bad = {"current_password": "guess-guess-guess", "new_password": "a-brand-new-secret",
               "confirm": "a-brand-new-secret"}
        for _ in range(10):
            assert client.post("/auth/password", data=bad).status_code == 422
        good = {**bad, "current_password": factories.PASSWORD}
        resp = client.post("/auth/password", data=good)
        assert resp.status_code == 429
        session.expire_all()
        assert session.get(User, user.id).check_password(factories.PASSWORD)
