"""Imports use bulk lookups: the number of SELECTs does not grow with the number of rows, and a
whole-country directory (about 2,600 primary schools) imports in seconds."""

from __future__ import annotations

import time
from contextlib import contextmanager

import sqlalchemy as sa
from sqlalchemy import event

from pairing.extensions import db
from pairing.imports.readers import read_table
from pairing.imports.service import apply_plan, build_plan
from pairing.schools.models import School

from . import fixtures_imports as fx

COUNTIES = ["新北市", "臺北市", "桃園市", "臺中市", "臺南市", "高雄市", "新竹縣", "屏東縣"]


@contextmanager
def count_selects():
    counter = {"select": 0, "all": 0}

    def before(conn, cursor, statement, parameters, context, executemany):
        counter["all"] += 1
        if statement.lstrip().upper().startswith("SELECT"):
            counter["select"] += 1

    engine = db.engine
    event.listen(engine, "before_cursor_execute", before)
    try:
        yield counter
    finally:
        event.remove(engine, "before_cursor_execute", before)


def _import(session, data, jurisdiction="新北市"):
    plan = build_plan(session, "schools", read_table(data), "f.csv",
                      jurisdiction=jurisdiction, level="primary")
    counts = apply_plan(session, plan)
    session.commit()
    return counts


def _selects_for(session, rows) -> int:
    with count_selects() as counter:
        _import(session, fx.ministry_primary_big5(rows))
    return counter["select"]


def test_select_count_does_not_grow_with_rows(session):
    small = _selects_for(session, fx.ministry_rows(10, start=0))
    large = _selects_for(session, fx.ministry_rows(500, start=1000))
    assert large == small, (small, large)
    # Re-importing with every row changed: still the same number of lookups.
    changed = [r[:6] + ["(02)3333", ""] for r in fx.ministry_rows(500, start=1000)]
    assert _selects_for(session, changed) == small
    assert session.scalar(sa.select(sa.func.count()).select_from(School)) == 510


def test_whole_country_directory_imports_in_seconds(session):
    rows = []
    for i, county in enumerate(COUNTIES):
        rows += fx.ministry_rows(325, county=county, start=i * 1000)
    data = fx.ministry_primary_big5(rows)
    started = time.perf_counter()
    counts = _import(session, data, jurisdiction="全國")
    elapsed = time.perf_counter() - started
    assert counts["new"] == 2600
    assert elapsed < 30, f"{elapsed:.1f} s"
    started = time.perf_counter()
    counts = _import(session, data, jurisdiction="全國")
    assert counts["unchanged"] == 2600
    assert time.perf_counter() - started < 10
