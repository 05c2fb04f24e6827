"""A small-scale run of the benchmark suite, so that it keeps working (no timing asserts)."""

from __future__ import annotations

import json

import pytest
import sqlalchemy as sa

from bench import generate as gen
from bench import run as bench_run

pytestmark = pytest.mark.bench


def test_tiny_run_writes_the_result_json(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("INSTANCE_PATH", str(tmp_path / "instance"))
    out = tmp_path / "result.json"
    bench_run.run(["--scales", "tiny", "--backends", "sqlite", "--quick", "--reps", "2",
                   "--skip", "throughput,browser,imports,memory", "--out", str(out)])

    data = json.loads(out.read_text(encoding="utf-8"))
    assert data["machine"]["cores"] >= 1
    assert data["args"]["scales"] == ["tiny"]
    res = data["scales"]["tiny"]["sqlite"]
    scale = gen.SCALES["tiny"]
    rows = res["data"]["rows"]
    assert rows["district"] == scale.districts == 6
    assert rows["school"] == scale.schools == 40
    assert rows["partner_city"] == scale.partner_cities == 3
    assert rows["partner_school"] == scale.partners == 60
    assert rows["pairing"] == scale.pairings == 80
    assert rows["activity"] == scale.activities == 400
    assert rows["user_account"] == 2
    # Every signed pairing has an 'active' event, proposals a 'proposed' one: at least one
    # event per pairing.
    assert rows["pairing_event"] >= rows["pairing"]
    assert res["data"]["inserted"] == rows

    assert set(res["pages"]) == {"dashboard", "dashboard_filtered", "schools_search",
                                 "schools_search_deep", "school_status", "pairing"}
    for page in res["pages"].values():
        assert page["n"] == 2
        assert 0 < page["min_ms"] <= page["median_ms"] <= page["p95_ms"]
        assert page["sql_floor"]["queries"] >= 1
        assert page["floor_ms"] > 0
    assert res["floors"]["minimal_route"]["n"] == 10
    assert res["floors"]["healthz"]["statuses"] == {"200": 4}
    assert "| tiny | sqlite | dashboard |" in capsys.readouterr().out
    # The temporary database is dropped afterwards.
    assert not (tmp_path / "bench_tiny.sqlite3").exists()


def test_generator_is_deterministic_and_consistent(tmp_path, monkeypatch):
    monkeypatch.setenv("INSTANCE_PATH", str(tmp_path / "instance"))
    from pairing.extensions import db

    snapshots = []
    for n in range(2):
        app = bench_run.make_app(f"sqlite:///{tmp_path / f'gen{n}.sqlite3'}")
        with app.app_context():
            db.create_all()
            gen.generate(db.session, "tiny")
            pairings = db.session.execute(sa.text(
                "SELECT id, school_id, partner_school_id, status, signed_on, ended_on "
                "FROM pairing ORDER BY id")).all()
            events = db.session.execute(sa.text(
                "SELECT pairing_id, status, effective_on FROM pairing_event "
                "ORDER BY pairing_id, effective_on, id")).all()
            db.session.remove()
            db.engine.dispose()
        snapshots.append((pairings, events))
    assert snapshots[0] == snapshots[1]

    pairings, events = snapshots[0]
    history: dict[int, list[str]] = {}
    for pairing_id, status, _ in events:
        history.setdefault(pairing_id, []).append(status)
    open_pairs = set()
    for pid, school_id, partner_id, status, signed_on, ended_on in pairings:
        expected = {"active": ["active"], "suspended": ["active", "suspended"],
                    "ended": ["active", "ended"], "proposed": ["proposed"],
                    "negotiating": ["proposed", "negotiating"]}[status]
        assert history[pid] == expected
        assert (signed_on is not None) == (status in ("active", "suspended", "ended"))
        assert (ended_on is not None) == (status == "ended")
        if status != "ended":
            assert (school_id, partner_id) not in open_pairs
            open_pairs.add((school_id, partner_id))


def test_ministry_directory_file(tmp_path):
    path = gen.write_ministry_directory(tmp_path / "dir.csv", rows=30)
    lines = path.read_text(encoding="utf-8-sig").splitlines()
    assert lines[0] == "學年度,代碼,學校名稱,公/私立,縣市名稱,地址,電話,網址"
    assert len(lines) == 31
    assert lines[1].startswith("114,900000,")


def test_district_names_are_distinct_at_every_scale():
    for scale in gen.SCALES.values():
        rows = gen.district_rows(scale)
        assert len({(r["county"], r["name_zh"]) for r in rows}) == scale.districts
    assert len({gen.district_name(j) for j in range(3_700)}) == 3_700
