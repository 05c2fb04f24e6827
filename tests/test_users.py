"""User administration: list, create, edit, (de)activate, temporary passwords, last admin."""

from __future__ import annotations

from sqlalchemy import func, select

from pairing.accounts.models import User
from pairing.audit.models import AuditLog
from pairing.common.enums import Role
from pairing.common.i18n import LOCALE_COOKIE

from . import factories

NEW_PW = "temporary-secret-42"


def _user_count(session) -> int:
    return session.scalar(select(func.count()).select_from(User))


def _admin(login_as, session, client=None):
    if client is not None:  # English messages, WTForms' own included
        client.set_cookie(LOCALE_COOKIE, "en")
    admin_id = login_as("admin", email="boss@example.org")
    return session.get(User, admin_id)


def test_only_admins_reach_user_pages(client, login_as):
    login_as("staff")
    assert client.get("/users/").status_code == 403
    assert client.get("/users/new").status_code == 403


def test_list_search_filters_and_pagination(app, client, login_as, session):
    app.config["PER_PAGE"] = 2
    _admin(login_as, session)
    factories.make_user(session, role="staff", email="alice@example.org", name="Alice Chen")
    factories.make_user(session, role="official", email="bob@example.org", name="Bob Lin")
    factories.make_user(session, role="official", email="carol@example.org", name="Carol Wu",
                        active=False)
    session.commit()
    resp = client.get("/users/", query_string={"sort": "email"})
    assert resp.status_code == 200
    # 4 users (boss included), 2 per page: alice, bob on page 1.
    assert b"alice@example.org" in resp.data and b"bob@example.org" in resp.data
    assert b"carol@example.org" not in resp.data
    assert b"4 records, page 1 of 2" in resp.data
    resp = client.get("/users/", query_string={"sort": "email", "page": 2})
    assert b"boss@example.org" in resp.data and b"carol@example.org" in resp.data
    resp = client.get("/users/", query_string={"q": "lin"})
    assert b"bob@example.org" in resp.data and b"alice@example.org" not in resp.data
    resp = client.get("/users/", query_string={"role": "official", "active": "0"})
    assert b"carol@example.org" in resp.data and b"bob@example.org" not in resp.data
    assert b"1 records" in resp.data
    resp = client.get("/users/", query_string={"q": "nobody-matches"})
    assert b"No user matches" in resp.data


def test_create_principal_with_temporary_password(app, client, login_as, session):
    admin = _admin(login_as, session)
    school = factories.make_school(session, code="014999")
    session.commit()
    assert client.get("/users/new").status_code == 200
    resp = client.post("/users/new", data={
        "email": " New.Principal@Example.org", "name": "Principal Wang", "role": "principal",
        "school_code": "014999", "active": "y", "password": NEW_PW})
    assert resp.status_code == 302
    user = session.scalar(select(User).where(User.email == "new.principal@example.org"))
    assert user.role == Role.PRINCIPAL and user.school_id == school.id
    assert user.must_change_password is True and user.active is True
    assert user.check_password(NEW_PW)
    row = session.scalar(select(AuditLog).where(AuditLog.entity_type == "user",
                                                AuditLog.entity_id == user.id,
                                                AuditLog.action == "create"))
    assert row.user_id == admin.id and row.user_email == "boss@example.org"
    assert row.changes["email"] == "new.principal@example.org"
    assert row.changes["school_id"] == school.id
    assert "password_hash" not in row.changes

    # The new user must change the temporary password at the first sign-in.
    other = app.test_client()
    resp = other.post("/auth/login", data={"email": "new.principal@example.org",
                                           "password": NEW_PW})
    assert resp.headers["Location"] == "/auth/password"
    assert other.get(f"/schools/{school.id}").headers["Location"] == "/auth/password"


def test_create_refuses_bad_input_and_saves_nothing(client, login_as, session):
    _admin(login_as, session, client)
    factories.make_user(session, role="staff", email="taken@example.org")
    session.commit()
    before = _user_count(session)
    cases = [
        ({"email": "TAKEN@example.org", "name": "X", "role": "staff", "password": NEW_PW},
         b"A user with this e-mail already exists."),
        ({"email": "p@example.org", "name": "X", "role": "principal", "password": NEW_PW},
         b"A principal needs the code of their school."),
        ({"email": "p@example.org", "name": "X", "role": "principal", "school_code": "999999",
          "password": NEW_PW}, b"No school has the code 999999."),
        ({"email": "p@example.org", "name": "X", "role": "staff", "password": "short"},
         b"Use at least 10 characters."),
        ({"email": "p@example.org", "name": "X", "role": "staff", "password": "password123"},
         b"too common"),
        ({"email": "not-an-email", "name": "X", "role": "staff", "password": NEW_PW},
         b"Invalid email address"),
        ({"email": "p@example.org", "name": "X", "role": "overlord", "password": NEW_PW},
         b"Not a valid choice"),
    ]
    for data, message in cases:
        resp = client.post("/users/new", data=data)
        assert resp.status_code == 422, data
        assert message in resp.data, (data, resp.data[-3000:])
    assert _user_count(session) == before


def test_non_principal_gets_no_school(client, login_as, session):
    _admin(login_as, session)
    factories.make_school(session, code="014888")
    session.commit()
    client.post("/users/new", data={"email": "s@example.org", "name": "S", "role": "staff",
                                    "school_code": "014888", "active": "y", "password": NEW_PW})
    assert session.scalar(select(User).where(User.email == "s@example.org")).school_id is None


def _edit_data(user, **changes):
    data = {"email": user.email, "name": user.name, "role": user.role.value,
            "school_code": user.school.code if user.school else "",
            "active": "y" if user.active else "", "version": user.version}
    data.update(changes)
    return {k: v for k, v in data.items() if v != ""}


def test_edit_user_role_school_and_name(client, login_as, session):
    admin = _admin(login_as, session)
    school = factories.make_school(session, code="014777")
    user = factories.make_user(session, role="official", email="o@example.org", name="Old")
    session.commit()
    page = client.get(f"/users/{user.id}/edit")
    assert page.status_code == 200 and b'value="o@example.org"' in page.data
    resp = client.post(f"/users/{user.id}/edit", data=_edit_data(
        user, name="New Name", role="principal", school_code="014777"))
    assert resp.status_code == 302
    session.expire_all()
    user = session.get(User, user.id)
    assert (user.name, user.role, user.school_id) == ("New Name", Role.PRINCIPAL, school.id)
    row = session.scalar(select(AuditLog).where(AuditLog.entity_id == user.id,
                                                AuditLog.entity_type == "user",
                                                AuditLog.action == "update"))
    assert row.user_id == admin.id
    assert row.changes["name"] == ["Old", "New Name"]
    assert row.changes["role"] == ["official", "principal"]
    assert row.changes["school_id"] == [None, school.id]
    detail = client.get(f"/users/{user.id}")
    assert b"New Name" in detail.data and b"014777" in detail.data


def test_stale_edit_is_refused_and_shows_saved_values(client, login_as, session):
    _admin(login_as, session)
    user = factories.make_user(session, role="official", email="o@example.org", name="First")
    session.commit()
    stale = _edit_data(user, name="Mine")
    user.name = "Theirs"
    session.commit()
    resp = client.post(f"/users/{user.id}/edit", data=stale)
    assert resp.status_code == 409
    assert b"Someone else changed this user" in resp.data
    assert b"Theirs" in resp.data and b"Mine" in resp.data
    session.expire_all()
    assert session.get(User, user.id).name == "Theirs"


def test_sign_in_meanwhile_does_not_make_the_form_stale(app, client, login_as, session):
    _admin(login_as, session)
    user = factories.make_user(session, role="official", email="o@example.org", name="First")
    session.commit()
    form = _edit_data(user, name="Second")
    app.test_client().post("/auth/login", data={"email": "o@example.org",
                                                "password": factories.PASSWORD})
    session.expire_all()
    fresh = session.get(User, user.id)
    assert fresh.last_login_at is not None
    assert fresh.version == form["version"]  # signing in does not bump the version
    resp = client.post(f"/users/{user.id}/edit", data=form)
    assert resp.status_code == 302
    session.expire_all()
    assert session.get(User, user.id).name == "Second"


def test_deactivate_and_reactivate_with_confirmation(app, client, login_as, session):
    _admin(login_as, session)
    user = factories.make_user(session, role="staff", email="s@example.org")
    session.commit()
    victim = app.test_client()
    victim.post("/auth/login", data={"email": "s@example.org", "password": factories.PASSWORD})
    assert victim.get("/").status_code == 200

    page = client.get(f"/users/{user.id}/deactivate")
    assert page.status_code == 200 and b"will no longer be able to sign in" in page.data
    session.expire_all()
    assert session.get(User, user.id).active is True  # GET changes nothing
    resp = client.post(f"/users/{user.id}/deactivate", data={"version": user.version})
    assert resp.status_code == 302
    session.expire_all()
    user = session.get(User, user.id)
    assert user.active is False
    # The deactivated user's session stops at the next request.
    resp = victim.get("/")
    assert resp.status_code == 302 and "/auth/login" in resp.headers["Location"]

    resp = client.post(f"/users/{user.id}/reactivate", data={"version": user.version})
    assert resp.status_code == 302
    session.expire_all()
    assert session.get(User, user.id).active is True


def test_last_active_admin_cannot_be_deactivated_or_demoted(client, login_as, session):
    admin = _admin(login_as, session)
    # An inactive admin does not count.
    factories.make_user(session, role="admin", email="old-admin@example.org", active=False)
    session.commit()
    resp = client.post(f"/users/{admin.id}/edit", data=_edit_data(admin, role="staff"))
    assert resp.status_code == 422
    assert b"This is the last active administrator." in resp.data
    resp = client.post(f"/users/{admin.id}/edit", data=_edit_data(admin, active=""))
    assert resp.status_code == 422
    session.expire_all()
    admin = session.get(User, admin.id)
    assert admin.role == Role.ADMIN and admin.active is True

    # With a second active admin, the first may be demoted (by the second one).
    second = factories.make_user(session, role="admin", email="second@example.org")
    session.commit()
    resp = client.post(f"/users/{second.id}/edit", data=_edit_data(second, role="staff"))
    assert resp.status_code == 302
    session.expire_all()
    assert session.get(User, second.id).role == Role.STAFF


def test_last_admin_cannot_be_deactivated_via_confirmation(client, login_as, session):
    admin = _admin(login_as, session)
    other = factories.make_user(session, role="admin", email="a2@example.org")
    session.commit()
    # Deactivating yourself is refused even when another admin exists.
    resp = client.post(f"/users/{admin.id}/deactivate", data={"version": admin.version})
    assert resp.status_code == 422
    assert b"You cannot deactivate your own account." in resp.data
    # Deactivate the other admin: fine; then the remaining one is the last.
    assert client.post(f"/users/{other.id}/deactivate",
                       data={"version": other.version}).status_code == 302
    session.expire_all()
    assert session.get(User, other.id).active is False
    assert session.get(User, admin.id).active is True


def test_service_refuses_deactivating_last_admin(app, session):
    from pairing.accounts import service

    admin = factories.make_user(session, role="admin")
    session.commit()
    try:
        service.set_active(session, admin, False, acting_user_id=None)
    except service.UserError as exc:
        with app.test_request_context(headers={"Accept-Language": "en"}):
            assert "last active administrator" in str(exc.message)
    else:
        raise AssertionError("the last admin was deactivated")
    assert admin.active is True


def test_reset_password_sets_temporary_password(app, client, login_as, session):
    _admin(login_as, session)
    user = factories.make_user(session, role="official", email="o@example.org")
    session.commit()
    page = client.get(f"/users/{user.id}/reset-password")
    assert page.status_code == 200 and b"The current password stops working" in page.data
    resp = client.post(f"/users/{user.id}/reset-password", data={"password": "short",
                                                                 "version": user.version})
    assert resp.status_code == 422 and b"Use at least 10 characters." in resp.data
    resp = client.post(f"/users/{user.id}/reset-password", data={"password": NEW_PW,
                                                                 "version": user.version})
    assert resp.status_code == 302
    session.expire_all()
    user = session.get(User, user.id)
    assert user.must_change_password is True and user.check_password(NEW_PW)
    assert not user.check_password(factories.PASSWORD)
    row = session.scalar(select(AuditLog).where(AuditLog.action == "password_reset",
                                                AuditLog.entity_id == user.id))
    assert row.user_email == "boss@example.org"
    other = app.test_client()
    resp = other.post("/auth/login", data={"email": "o@example.org", "password": NEW_PW})
    assert resp.headers["Location"] == "/auth/password"


def test_unknown_user_is_404(client, login_as, session):
    _admin(login_as, session)
    assert client.get("/users/99999").status_code == 404
    assert client.post("/users/99999/deactivate", data={"version": 1}).status_code == 404


def test_two_admins_demoting_each_other_at_once_leave_one(app, session):
    """The last-admin check locks the administrators' rows: the second of two concurrent
    demotions waits for the first to commit, counts again and is refused."""
    import threading

    from sqlalchemy.orm import Session as OrmSession

    from pairing.accounts import service
    from pairing.extensions import db

    first = factories.make_user(session, role="admin")
    second = factories.make_user(session, role="admin")
    session.commit()
    engine = db.engine
    tx1 = OrmSession(engine)
    service.set_active(tx1, tx1.get(User, first.id), False, acting_user_id=second.id)
    tx1.flush()  # holds the locks until commit
    outcome: dict = {}

    def demote_second():
        with app.app_context(), OrmSession(engine) as tx2:
            try:
                service.set_active(tx2, tx2.get(User, second.id), False,
                                   acting_user_id=first.id)
                tx2.commit()
                outcome["result"] = "demoted"
            except service.UserError:
                tx2.rollback()
                outcome["result"] = "refused"

    if engine.dialect.name == "postgresql":
        worker = threading.Thread(target=demote_second)
        worker.start()
        worker.join(0.5)
        assert worker.is_alive()  # waiting for the first transaction's locks
        tx1.commit()
        tx1.close()
        worker.join(10)
    else:  # SQLite has one writer at a time: the second demotion comes after the first
        tx1.commit()
        tx1.close()
        demote_second()
    assert outcome == {"result": "refused"}
    session.expire_all()
    assert session.get(User, second.id).active is True
    assert session.get(User, first.id).active is False
