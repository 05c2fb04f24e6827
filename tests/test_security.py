"""Security headers, cookie flags and CSRF protection on every POST route."""

from __future__ import annotations

import re

import pytest

from pairing.config import load_config

from . import factories


def _assert_headers(resp):
    csp = resp.headers["Content-Security-Policy"]
    directives = dict(d.strip().split(" ", 1) for d in csp.split(";") if d.strip())
    assert "unsafe-inline" not in directives["script-src"]
    assert "unsafe-eval" not in directives["script-src"]
    assert directives["script-src"] == "'self'"
    assert directives["frame-ancestors"] == "'none'"
    assert directives["object-src"] == "'none'"
    assert resp.headers["X-Content-Type-Options"] == "nosniff"
    assert resp.headers["Referrer-Policy"] in ("same-origin", "strict-origin-when-cross-origin",
                                               "no-referrer")
    assert resp.headers["X-Frame-Options"] == "DENY"


def test_headers_on_every_kind_of_response(client, login_as):
    responses = [
        client.get("/auth/login"),                 # a page
        client.get("/"),                           # a redirect to sign-in
        client.get("/static/css/app.css"),         # a static file
        client.get("/healthz"),                    # JSON
    ]
    login_as("official")
    responses += [
        client.get("/"),                           # signed-in page
        client.get("/users/"),                     # 403
        client.get("/no-such-page"),               # 404
        client.get("/auth/logout"),                # 405
    ]
    assert [r.status_code for r in responses] == [200, 302, 200, 200, 200, 403, 404, 405]
    for resp in responses:
        _assert_headers(resp)
        resp.close()


def test_pages_are_not_cached_but_assets_are(client, login_as):
    login_as("staff")
    assert client.get("/").headers["Cache-Control"] == "no-store"
    asset = client.get("/static/css/app.css")
    asset.close()
    assert "no-store" not in asset.headers.get("Cache-Control", "")


def test_no_inline_scripts_or_styles_in_pages(client, login_as):
    login_as("admin")
    for url in ("/", "/users/", "/users/new", "/audit/", "/auth/password"):
        html = client.get(url).data.decode()
        assert not re.search(r"<script(?![^>]*\bsrc=)(?![^>]*application/json)[^>]*>", html), url
        assert 'style="' not in html, url
        assert " on" + "click=" not in html, url


def test_session_cookie_flags(client, session):
    factories.make_user(session, role="staff", email="s@example.org")
    session.commit()
    resp = client.post("/auth/login", data={"email": "s@example.org",
                                            "password": factories.PASSWORD})
    cookie = next(c for c in resp.headers.getlist("Set-Cookie") if c.startswith("session="))
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie
    assert "Secure" not in cookie  # the test app runs without HTTPS


class TestSecureCookies:
    @pytest.fixture
    def app_config(self):
        return {"SESSION_COOKIE_SECURE": True}

    def test_secure_flag_when_configured(self, client, session):
        factories.make_user(session, role="staff", email="s@example.org")
        session.commit()
        resp = client.post("/auth/login", data={"email": "s@example.org",
                                                "password": factories.PASSWORD},
                           base_url="https://localhost")
        cookie = next(c for c in resp.headers.getlist("Set-Cookie")
                      if c.startswith("session="))
        assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie
        page = client.get("/", base_url="https://localhost")
        assert page.headers["Strict-Transport-Security"].startswith("max-age=")


def test_secure_cookies_are_the_default_outside_development(monkeypatch, tmp_path):
    monkeypatch.setenv("APP_ENV", "production")
    monkeypatch.setenv("SECRET_KEY", "x" * 40)
    monkeypatch.delenv("SESSION_COOKIE_SECURE", raising=False)
    cfg = load_config(str(tmp_path))
    assert cfg["SESSION_COOKIE_SECURE"] is True and cfg["REMEMBER_COOKIE_SECURE"] is True
    assert cfg["SESSION_COOKIE_HTTPONLY"] is True and cfg["SESSION_COOKIE_SAMESITE"] == "Lax"
    monkeypatch.setenv("APP_ENV", "development")
    assert load_config(str(tmp_path))["SESSION_COOKIE_SECURE"] is False


# --- CSRF ------------------------------------------------------------------------------


def _placeholder_url(rule) -> str:
    """A URL for ``rule`` with made-up values for its parameters."""
    values = {}
    for arg in rule.arguments:
        converter = rule._converters[arg]
        items = getattr(converter, "items", None)
        if items:
            values[arg] = sorted(items)[0]
        elif type(converter).__name__ in ("IntegerConverter", "NumberConverter"):
            values[arg] = 1
        else:
            values[arg] = "x"
    return rule.build(values, append_unknown=False)[1]


def _post_routes(app) -> list:
    return sorted((r for r in app.url_map.iter_rules() if "POST" in r.methods),
                  key=lambda r: r.rule)


def _token(html: bytes) -> str:
    match = re.search(rb'name="csrf_token"[^>]*value="([^"]+)"', html)
    assert match, "no CSRF token in the page"
    return match.group(1).decode()


class TestCsrf:
    @pytest.fixture
    def app_config(self):
        return {"WTF_CSRF_ENABLED": True}

    def test_every_post_route_without_a_token_is_refused(self, app, client, session):
        user = factories.make_user(session, role="admin", email="a@example.org")
        school = factories.make_school(session)
        session.commit()
        assert user.id and school.id
        routes = _post_routes(app)
        assert len(routes) >= 3  # sign-in, sign-out, language at least

        anonymous = app.test_client()
        # Sign in properly, with the token from the form.
        page = client.get("/auth/login")
        resp = client.post("/auth/login", data={"email": "a@example.org",
                                                "password": factories.PASSWORD,
                                                "csrf_token": _token(page.data)})
        assert resp.status_code == 302
        # Without a token the same sign-in is refused.
        resp = anonymous.post("/auth/login", data={"email": "a@example.org",
                                                   "password": factories.PASSWORD})
        assert resp.status_code == 400

        accepted = []
        for rule in routes:
            url = _placeholder_url(rule)
            for who, c in (("anonymous", anonymous), ("admin", client)):
                resp = c.post(url, data={"email": "a@example.org", "name": "X"})
                if resp.status_code != 400:
                    accepted.append(f"{who} POST {url} ({rule.endpoint}): {resp.status_code}")
                # A wrong token is refused as well.
                resp = c.post(url, data={"csrf_token": "forged"})
                if resp.status_code != 400:
                    accepted.append(f"{who} POST {url} forged token: {resp.status_code}")
        assert not accepted, "POST routes that accept a request without a valid CSRF " \
                             "token:\n  " + "\n  ".join(accepted)
        # Still signed in: the refusals changed nothing; sign-out with the token works.
        home = client.get("/")
        assert home.status_code == 200
        resp = client.post("/auth/logout", data={"csrf_token": _token(home.data)})
        assert resp.status_code == 302 and resp.headers["Location"] == "/auth/login"

    def test_refusal_is_a_friendly_page(self, client):
        resp = client.post("/auth/login", data={"email": "a@example.org", "password": "x"},
                           headers={"Accept-Language": "en"})
        assert resp.status_code == 400
        assert b"The request could not be understood" in resp.data


# --- record-level helpers used by the feature views -----------------------------------


def test_record_level_helpers(app, session):
    from flask_login import AnonymousUserMixin

    from pairing.accounts.permissions import (
        allowed_pairing_statuses,
        can_edit_school,
        can_manage_school_records,
        is_admin,
        is_staff,
    )
    from pairing.common.enums import PairingStatus

    school_a = factories.make_school(session)
    school_b = factories.make_school(session)
    users = {role: factories.make_user(session, role=role, school=school_a)
             if role == "principal" else factories.make_user(session, role=role)
             for role in ("admin", "staff", "principal", "official")}
    session.commit()
    principal = users["principal"]
    assert can_edit_school(school_a.id, principal) is True
    assert can_edit_school(school_b.id, principal) is False
    assert can_edit_school(None, principal) is False
    assert can_manage_school_records(school_b.id, principal) is False
    assert can_edit_school(school_b.id, users["staff"]) is True
    assert can_edit_school(school_a.id, users["official"]) is False
    assert can_edit_school(school_a.id, AnonymousUserMixin()) is False
    assert [is_staff(u) for u in users.values()] == [True, True, False, False]
    assert [is_admin(u) for u in users.values()] == [True, False, False, False]
    assert allowed_pairing_statuses(principal) == [PairingStatus.PROPOSED,
                                                   PairingStatus.NEGOTIATING]
    assert allowed_pairing_statuses(users["staff"]) == list(PairingStatus)
