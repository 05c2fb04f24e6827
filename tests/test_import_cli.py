"""``flask import ...`` and ``flask export``."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from openpyxl import load_workbook

from pairing.audit.models import AuditLog
from pairing.extensions import db
from pairing.partners.models import PartnerSchool
from pairing.schools.models import School

from . import factories
from . import fixtures_imports as fx


@pytest.fixture
def app_config():
    """Assert on the English texts (the default locale is zh-TW)."""
    return {"BABEL_DEFAULT_LOCALE": "en"}


def _codes(app) -> list[str]:
    with app.app_context():
        return sorted(db.session.scalars(sa.select(School.code)))


def test_dry_run_changes_nothing(app, runner, tmp_path):
    path = tmp_path / "國民小學名錄.csv"
    path.write_bytes(fx.ministry_primary_big5())
    result = runner.invoke(args=["import", "schools", str(path), "--dry-run"])
    assert result.exit_code == 0, result.output
    assert "Big5 (CP950)" in result.output
    assert "new: 5, changed: 0, unchanged: 0, skipped: 2, invalid: 0" in result.output
    assert "Dry run: nothing was changed." in result.output
    assert _codes(app) == []


def test_import_then_reimport(app, runner, tmp_path):
    path = tmp_path / "junior.csv"
    path.write_bytes(fx.ministry_junior_utf8_bom())
    result = runner.invoke(args=["import", "schools", str(path), "--level", "junior"])
    assert result.exit_code == 0, result.output
    assert "Imported: 3 new, 0 changed." in result.output
    assert _codes(app) == ["014301", "014357", "01A402"]
    with app.app_context():
        entry = db.session.scalar(sa.select(AuditLog).where(AuditLog.action == "import"))
        assert entry.user_email == "cli import schools" and entry.label == "junior.csv"
        assert entry.changes["level"] == "junior"
    result = runner.invoke(args=["import", "schools", str(path), "--level", "junior"])
    assert "new: 0, changed: 0, unchanged: 3" in result.output


def test_invalid_rows_exit_non_zero_and_import_nothing(app, runner, tmp_path):
    rows = [list(r) for r in fx.PRIMARY_ROWS]
    rows[0][1] = "01460"  # valid: a code that lost its leading zero gets it back
    rows[1][1] = "0146-2"
    path = tmp_path / "bad.csv"
    path.write_bytes(fx.ministry_primary_big5(rows))
    result = runner.invoke(args=["import", "schools", str(path)])
    assert result.exit_code == 1
    assert "row 3, 代碼, '0146-2': A school code has 6 letters or digits." in result.output
    assert "1 invalid rows: nothing was imported" in result.output
    assert _codes(app) == []

    result = runner.invoke(args=["import", "schools", str(path), "--only-valid"])
    assert result.exit_code == 1  # still reports the error
    assert _codes(app) == ["001460", "011601", "014779", "01A402"]


def test_bad_file_is_a_clear_error(app, runner, tmp_path):
    path = tmp_path / "empty.csv"
    path.write_bytes(b"")
    result = runner.invoke(args=["import", "partners", str(path)])
    assert result.exit_code == 1
    assert "The file is empty." in result.output


def test_partners_command(app, runner, tmp_path):
    path = tmp_path / "partners.csv"
    path.write_bytes(fx.csv_bytes(["name", "country", "city"], [["Holmdel High", "US",
                                                                  "Holmdel"]]))
    result = runner.invoke(args=["import", "partners", str(path)])
    assert result.exit_code == 0, result.output
    with app.app_context():
        assert db.session.scalar(sa.select(PartnerSchool.name)) == "Holmdel High"


def test_export_command_writes_a_reimportable_workbook(app, runner, tmp_path):
    with app.app_context():
        factories.make_pairing(db.session)
        db.session.commit()
    out = tmp_path / "all.xlsx"
    result = runner.invoke(args=["export", str(out)])
    assert result.exit_code == 0, result.output
    assert "cities: 0, schools: 1, partners: 1, pairings: 1, activities: 0" in result.output
    assert load_workbook(out).sheetnames == ["cities", "schools", "partners", "pairings",
                                             "activities"]
    for kind in ("schools", "partners", "pairings"):
        result = runner.invoke(args=["import", kind, str(out), "--dry-run"])
        assert result.exit_code == 0, result.output
        assert "new: 0, changed: 0, unchanged: 1" in result.output
    result = runner.invoke(args=["export", str(tmp_path / "s.csv"), "--kind", "schools",
                                 "--headers", "en"])
    assert result.exit_code == 0
    assert (tmp_path / "s.csv").read_bytes().startswith(b"\xef\xbb\xbfcode,name_zh")
    assert runner.invoke(args=["export", str(tmp_path / "x.csv")]).exit_code == 1
