"""The zh-TW catalog is complete and current; both languages render."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parent.parent
# Flask-Babel looks catalogs up by str(Locale.parse("zh_TW")), which is "zh_Hant_TW".
PO = ROOT / "pairing" / "translations" / "zh_Hant_TW" / "LC_MESSAGES" / "messages.po"


def _extracted_ids(tmp_path: Path) -> set:
    pot = tmp_path / "messages.pot"
    subprocess.run(
        [sys.executable, "-m", "babel.messages.frontend", "extract", "-F",
         str(ROOT / "babel.cfg"), "-k", "_l", "-k", "lazy_gettext", "-o", str(pot), str(ROOT)],
        check=True, cwd=ROOT, capture_output=True,
    )
    with pot.open("rb") as fh:
        return {m.id for m in read_po(fh) if m.id}


def test_every_extracted_message_has_a_zh_tw_translation(tmp_path):
    with PO.open("rb") as fh:
        catalog = read_po(fh)
    translated = {m.id: m for m in catalog if m.id}
    missing = []
    for msgid in sorted(_extracted_ids(tmp_path), key=str):
        msg = translated.get(msgid)
        strings = msg.string if msg else None
        ok = all(strings) if isinstance(strings, tuple) else bool(strings)
        if msg is None or not ok or msg.fuzzy:
            missing.append(msgid)
    assert not missing, f"{len(missing)} messages lack a zh-TW translation: {missing[:20]}"


def test_html_lang_follows_the_language(client):
    zh = client.get("/auth/login", headers={"Accept-Language": "zh-TW"})
    assert 'lang="zh-Hant-TW"' in zh.get_data(as_text=True)
    assert "登入" in zh.get_data(as_text=True)
    en = client.get("/auth/login", headers={"Accept-Language": "en-US"})
    assert 'lang="en"' in en.get_data(as_text=True)
    assert "Sign in" in en.get_data(as_text=True)
