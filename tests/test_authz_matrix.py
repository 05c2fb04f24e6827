"""The authorization matrix: every route in app.url_map × every role × method.

Rules live in ``tests/authz/<feature>.py`` (see ``tests/authz/__init__.py``). A route that no
rule declares fails ``test_every_route_has_a_declared_policy``, so no page ships without one.
"""

from __future__ import annotations

import importlib
import pkgutil
from urllib.parse import parse_qs, urlsplit

import pytest
import sqlalchemy as sa
from flask import url_for

from pairing.extensions import db

from . import authz, factories
from .authz import ROLES, Rule, build_world

IGNORED_ENDPOINTS = {"static", "bootstrap.static"}
IGNORED_METHODS = {"HEAD", "OPTIONS"}


def _load_rules() -> list[Rule]:
    rules: list[Rule] = []
    for info in sorted(pkgutil.iter_modules(authz.__path__), key=lambda m: m.name):
        module = importlib.import_module(f"{authz.__name__}.{info.name}")
        rules.extend(getattr(module, "RULES", []))
    return rules


RULES = _load_rules()


def _routes(app) -> set[tuple[str, str]]:
    routes = set()
    for rule in app.url_map.iter_rules():
        if rule.endpoint in IGNORED_ENDPOINTS:
            continue
        for method in rule.methods - IGNORED_METHODS:
            routes.add((rule.endpoint, method))
    return routes


def test_every_route_has_a_declared_policy(app):
    declared = [(r.endpoint, r.method) for r in RULES]
    duplicates = sorted({d for d in declared if declared.count(d) > 1})
    routes = _routes(app)
    undeclared = sorted(routes - set(declared))
    unknown = sorted(set(declared) - routes)
    problems = []
    if undeclared:
        problems.append("Routes without a rule in tests/authz/:\n  " + "\n  ".join(
            f"{method} {endpoint}" for endpoint, method in undeclared))
    if unknown:
        problems.append("Rules for routes that do not exist:\n  " + "\n  ".join(
            f"{method} {endpoint}" for endpoint, method in unknown))
    if duplicates:
        problems.append("Routes declared twice:\n  " + "\n  ".join(
            f"{method} {endpoint}" for endpoint, method in duplicates))
    assert not problems, "\n".join(problems)


def _resolve(values: dict | None, world: dict) -> dict | None:
    """A value that names a key of the world becomes that record's id."""
    if values is None:
        return None
    return {k: (world[v] if isinstance(v, str) and v in world else v)
            for k, v in values.items()}


def _empty_tables(app) -> None:
    """DELETE every row: much cheaper than TRUNCATE for these few rows on PostgreSQL."""
    with app.app_context():
        db.session.remove()
        with db.engine.begin() as conn:
            for table in reversed(db.metadata.sorted_tables):
                conn.execute(table.delete())


def _fresh_world(app) -> dict:
    _empty_tables(app)
    with app.app_context():
        world = build_world(db.session)
        db.session.commit()
        db.session.remove()
    return world


def _fingerprint(app) -> tuple:
    """Row counts and version sums: changes when a request created, deleted or edited a
    record of the world (the audit trail and sign-in bookkeeping aside)."""
    parts = []
    with app.app_context():
        for table in db.metadata.sorted_tables:
            if table.name == "audit_log":
                continue
            cols = [sa.func.count()]
            if "version" in table.c:
                cols.append(sa.func.coalesce(sa.func.sum(table.c.version), 0))
            parts.append((table.name, *db.session.execute(
                sa.select(*cols).select_from(table)).one()))
        db.session.remove()
    return tuple(parts)


def _client_for(app, role: str, world: dict):
    client = app.test_client()
    if role != "anonymous":
        resp = client.post("/auth/login", data={"email": world["emails"][role],
                                                "password": factories.PASSWORD})
        assert resp.status_code == 302, f"{role} could not sign in"
    return client


def _sent_to_sign_in(resp) -> bool:
    """The guard's redirect: /auth/login?next=... (sign-out's plain redirect there is not)."""
    if resp.status_code not in (301, 302, 303):
        return False
    location = urlsplit(resp.headers.get("Location", ""))
    return location.path == "/auth/login" and "next" in parse_qs(location.query)


def _outcome_problem(rule: Rule, role: str, resp) -> str | None:
    to_login = _sent_to_sign_in(resp)
    if role in rule.allowed:
        if resp.status_code == 403:
            return "allowed but got 403"
        if to_login:
            return "allowed but redirected to sign-in"
        if resp.status_code >= 500:
            return f"allowed but got {resp.status_code}"
        return None
    if role == "anonymous":
        return None if to_login else f"expected a redirect to sign-in, got {resp.status_code}"
    return None if resp.status_code == 403 else f"expected 403, got {resp.status_code}"


@pytest.mark.parametrize("rule", RULES, ids=[r.id for r in RULES])
def test_matrix(app, rule):
    """Each role gets the declared outcome; the world is rebuilt after a request changed it."""
    failures = []
    world = None
    for role in ROLES:
        if world is None:
            world = _fresh_world(app)
        client = _client_for(app, role, world)
        with app.test_request_context():
            url = url_for(rule.endpoint, **_resolve(rule.params, world))
        before = _fingerprint(app) if rule.method != "GET" else None
        try:
            resp = client.open(url, method=rule.method, data=_resolve(rule.data, world),
                               query_string=_resolve(rule.query, world))
        except Exception as exc:  # noqa: BLE001 - report every role, not just the first
            failures.append(f"{role}: raised {type(exc).__name__}: {exc}")
            world = None
            continue
        problem = _outcome_problem(rule, role, resp)
        if problem:
            failures.append(f"{role}: {problem} ({rule.method} {url})")
        if before is not None and _fingerprint(app) != before:
            world = None  # the request changed the world: rebuild it for the next role
    assert not failures, f"{rule.id}:\n  " + "\n  ".join(failures)
