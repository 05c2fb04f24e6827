"""A fast, deterministic data generator for the benchmark.

Rows go in with Core bulk inserts (``session.execute(insert(table), rows)`` in chunks), not one
ORM object at a time; this also bypasses the ORM audit listener, which is right for synthetic
data. The same scale and seed always give the same rows, on SQLite and on PostgreSQL.

Pairings carry a consistent status history (PairingEvent rows), because the dashboard rebuilds
history from events: an 'active' event at ``signed_on`` for active, suspended and ended
pairings, a 'suspended' or 'ended' event at its date, and a 'proposed' (and 'negotiating')
event for pairings not signed yet. The database constraints hold: an active pairing has a
``signed_on``, an ended one an ``ended_on``, and a school has at most one pairing with a
partner school that is not ended.
"""

from __future__ import annotations

import csv
import math
import random
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy import insert
from werkzeug.security import generate_password_hash

from pairing.accounts.models import User
from pairing.pairings.models import Activity, Pairing, PairingEvent
from pairing.partners.models import PartnerCity, PartnerSchool
from pairing.schools.models import District, School

DATA = Path(__file__).resolve().parent.parent / "data"
CHUNK = 5000
SEED = 20301231
NOW = datetime(2026, 10, 31, 12, 0, 0)
FIRST_SIGNING = date(2016, 1, 1)
LAST_DAY = date(2026, 10, 31)

#: The account the harness signs in with (read-only) and the one that writes.
OFFICIAL_EMAIL = "bench-official@example.org"
STAFF_EMAIL = "bench-staff@example.org"
PASSWORD = "bench-password-2030"


@dataclass(frozen=True)
class Scale:
    name: str
    schools: int
    counties: int
    districts: int
    partners: int
    partner_cities: int
    pairings: int
    activities: int


SCALES = {
    # tiny: the smoke test's scale.
    "tiny": Scale("tiny", 40, 2, 6, 60, 3, 80, 400),
    "city": Scale("city", 340, 1, 29, 600, 5, 800, 10_000),
    "nation": Scale("nation", 4_000, 22, 370, 8_000, 50, 10_000, 200_000),
    "nation10": Scale("nation10", 40_000, 22, 3_700, 80_000, 500, 100_000, 2_000_000),
}

COUNTIES = ["新北市", "臺北市", "桃園市", "臺中市", "臺南市", "高雄市", "基隆市", "新竹市",
            "嘉義市", "新竹縣", "苗栗縣", "彰化縣", "南投縣", "雲林縣", "嘉義縣", "屏東縣",
            "宜蘭縣", "花蓮縣", "臺東縣", "澎湖縣", "金門縣", "連江縣"]
SYLLABLES = "光明仁愛信義和平中正民生復興忠孝大同文化自強新興福德永安三民育英建國成功華興秀朗"
SYLLABLES_EN = ["Guang", "Ming", "Ren", "Ai", "Xin", "Yi", "He", "Ping", "Zhong", "Zheng",
                "Min", "Sheng", "Fu", "Xing", "Zhong", "Xiao", "Da", "Tong", "Wen", "Hua",
                "Zi", "Qiang", "Xin", "Xing", "Fu", "De", "Yong", "An", "San", "Min", "Yu",
                "Ying", "Jian", "Guo", "Cheng", "Gong", "Hua", "Xing", "Xiu", "Lang"]
COUNTRIES = ["US", "US", "US", "JP", "JP", "KR", "AU", "CA", "GB", "DE", "FR", "SG", "MY", "NZ",
             "PH", "VN", "TH", "ID", "IN", "NL", "SE", "FI", "ES"]
TOWNS = ["Springfield", "Riverside", "Fairview", "Kyoto", "Sapporo", "Busan", "Perth",
         "Victoria", "York", "Hamburg", "Lyon", "Jurong", "Penang", "Nelson", "Cebu", "Hue",
         "Chiang Mai", "Bandung", "Pune", "Utrecht", "Uppsala", "Espoo", "Valencia"]
ACTIVITY_TYPES = ["virtual_exchange", "virtual_exchange", "outbound_visit", "inbound_visit",
                  "teacher_exchange", "student_exchange", "joint_project", "other"]
ACTIVITY_MODES = {"virtual_exchange": "virtual", "outbound_visit": "in_person",
                  "inbound_visit": "in_person", "teacher_exchange": "in_person",
                  "student_exchange": "in_person", "joint_project": "hybrid", "other": "hybrid"}
#: (status, cumulative share) of generated pairings.
STATUS_SHARES = [("active", 0.55), ("suspended", 0.60), ("ended", 0.75),
                 ("negotiating", 0.85), ("proposed", 1.0)]
#: (primary, junior, senior, cumulative share) of generated schools; a school counts in
#: every level it serves.
LEVEL_SHARES = [((True, False, False), 0.62), ((False, True, False), 0.84),
                ((False, True, True), 0.89), ((False, False, True), 0.99),
                ((True, True, True), 1.0)]
SUFFIX = {(True, False, False): ("國民小學", "Elementary School"),
          (False, True, False): ("國民中學", "Junior High School"),
          (False, True, True): ("完全中學", "High School"),
          (False, False, True): ("高級中學", "Senior High School"),
          (True, True, True): ("實驗學校", "Experimental School")}


def _pick(rng: random.Random, shares):
    r = rng.random()
    for value, cum in shares:
        if r < cum:
            return value
    return shares[-1][0]


def _day(rng: random.Random, start: date, end: date) -> date:
    span = (end - start).days
    return start + timedelta(days=rng.randint(0, max(span, 0)))


def _chunks(rows: Iterable[dict], size: int = CHUNK) -> Iterator[list[dict]]:
    chunk: list[dict] = []
    for row in rows:
        chunk.append(row)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _insert(session, table: sa.Table, rows: Iterable[dict]) -> int:
    n = 0
    for chunk in _chunks(rows):
        session.execute(insert(table), chunk)
        n += len(chunk)
    return n


# -- rows ------------------------------------------------------------------------------------

def district_rows(scale: Scale) -> list[dict]:
    if scale.name == "city":
        with (DATA / "districts_new_taipei.csv").open(encoding="utf-8") as fh:
            real = list(csv.DictReader(fh))[: scale.districts]
        return [{"id": i + 1, "county": r["county"], "name_zh": r["name_zh"],
                 "name_en": r["name_en"], "postal_code": r["postal_code"]}
                for i, r in enumerate(real)]
    return [{"id": j + 1, "county": COUNTIES[j % scale.counties], "name_zh": district_name(j),
             "name_en": f"District {j + 1}", "postal_code": str(100 + j % 900)}
            for j in range(scale.districts)]


#: The distinct characters of SYLLABLES: district names are numbers written with them.
DISTRICT_CHARS = "".join(dict.fromkeys(SYLLABLES))


def district_name(j: int) -> str:
    """A distinct Chinese district name for every j: j in base len(DISTRICT_CHARS), two or
    more characters, then 區."""
    n = len(DISTRICT_CHARS)
    digits = [DISTRICT_CHARS[j % n]]
    j //= n
    while j or len(digits) < 2:
        digits.append(DISTRICT_CHARS[j % n])
        j //= n
    return "".join(digits) + "區"


def school_rows(scale: Scale, rng: random.Random) -> list[dict]:
    rows = []
    n_syl = len(SYLLABLES)
    for i in range(scale.schools):
        levels = _pick(rng, LEVEL_SHARES)
        public = rng.random() < 0.9
        a, b = i % n_syl, (i // n_syl) % n_syl
        zh_suffix, en_suffix = SUFFIX[levels]
        rows.append({
            "id": i + 1,
            "code": f"{i + 1:06d}",
            "name_zh": f"{'市立' if public else '私立'}{SYLLABLES[a]}{SYLLABLES[b]}{zh_suffix}",
            "name_en": f"{SYLLABLES_EN[a]}{SYLLABLES_EN[b].lower()} {en_suffix}",
            "district_id": i % scale.districts + 1,
            "serves_primary": levels[0], "serves_junior": levels[1], "serves_senior": levels[2],
            "is_public": public,
            "address": f"{district_name(i % scale.districts)}中正路{i % 300 + 1}號",
            "phone": f"(02){2000_0000 + i}",
            "website": f"https://s{i + 1:06d}.example.edu.tw",
            "principal_name": f"校長{i + 1}",
            "principal_email": f"principal{i + 1}@example.edu.tw",
            "enrolment": rng.randint(40, 2500),
            "closed_on": date(2024, 8, 1) if rng.random() < 0.01 else None,
            "created_at": NOW, "updated_at": NOW, "version": 1,
        })
    return rows


def partner_city_rows(scale: Scale) -> list[dict]:
    if scale.name == "city":
        with (DATA / "partner_cities.csv").open(encoding="utf-8") as fh:
            real = list(csv.DictReader(fh))[: scale.partner_cities]
        return [{"id": i + 1, "name": r["name"], "name_zh": r["name_zh"] or None,
                 "country": r["country"], "region": r["region"] or None,
                 "signed_on": date.fromisoformat(r["signed_on"]) if r["signed_on"] else None,
                 "twinned_on": None, "notes": None,
                 "created_at": NOW, "updated_at": NOW, "version": 1}
                for i, r in enumerate(real)]
    return [{"id": k + 1, "name": f"Partner City {k + 1}", "name_zh": None,
             "country": COUNTRIES[k % len(COUNTRIES)], "region": f"Region {k % 17 + 1}",
             "signed_on": date(2020 + k % 6, 1 + k % 12, 1 + k % 28), "twinned_on": None,
             "notes": None, "created_at": NOW, "updated_at": NOW, "version": 1}
            for k in range(scale.partner_cities)]


def partner_rows(scale: Scale, rng: random.Random) -> list[dict]:
    rows = []
    for j in range(scale.partners):
        k = rng.randrange(len(COUNTRIES))
        levels = _pick(rng, LEVEL_SHARES)
        city_id = (rng.randint(1, scale.partner_cities)
                   if scale.partner_cities and rng.random() < 0.2 else None)
        rows.append({
            "id": j + 1,
            "name": f"{TOWNS[k]} {SUFFIX[levels][1]} No. {j + 1}",
            "name_local": None,
            "country": COUNTRIES[k],
            "region": f"Region {j % 40 + 1}",
            "city": TOWNS[k],
            "serves_primary": levels[0], "serves_junior": levels[1], "serves_senior": levels[2],
            "website": f"https://partner{j + 1}.example.org",
            "contact_name": f"Contact {j + 1}",
            "contact_email": f"contact{j + 1}@example.org",
            "partner_city_id": city_id,
            "created_at": NOW, "updated_at": NOW, "version": 1,
        })
    return rows


def pairing_and_event_rows(scale: Scale, rng: random.Random) -> tuple[list[dict], list[dict]]:
    """Pairings with their status history; at most one open pairing per school and partner."""
    school_ids = list(range(1, scale.schools + 1))
    rng.shuffle(school_ids)
    engaged = school_ids[: max(1, int(len(school_ids) * 0.85))]  # some schools never pair
    open_pairs: set[tuple[int, int]] = set()
    pairings: list[dict] = []
    events: list[dict] = []
    event_id = 0

    def add_event(pairing_id: int, status: str, on: date) -> None:
        nonlocal event_id
        event_id += 1
        events.append({"id": event_id, "pairing_id": pairing_id, "status": status,
                       "effective_on": on, "recorded_at": NOW})

    for p in range(1, scale.pairings + 1):
        status = _pick(rng, STATUS_SHARES)
        while True:
            school_id = engaged[rng.randrange(len(engaged))]
            partner_id = rng.randint(1, scale.partners)
            if status == "ended" or (school_id, partner_id) not in open_pairs:
                break
        if status != "ended":
            open_pairs.add((school_id, partner_id))
        signed_on = start_on = end_on = ended_on = None
        if status in ("active", "suspended", "ended"):
            signed_on = _day(rng, FIRST_SIGNING, LAST_DAY - timedelta(days=60))
            start_on = signed_on
            end_on = signed_on + timedelta(days=3 * 365)
            add_event(p, "active", signed_on)
            if status == "suspended":
                add_event(p, "suspended", _day(rng, signed_on + timedelta(days=30), LAST_DAY))
            elif status == "ended":
                ended_on = _day(rng, signed_on + timedelta(days=30), LAST_DAY)
                add_event(p, "ended", ended_on)
        else:
            proposed_on = _day(rng, date(2025, 1, 1), LAST_DAY - timedelta(days=40))
            add_event(p, "proposed", proposed_on)
            if status == "negotiating":
                add_event(p, "negotiating", proposed_on + timedelta(days=30))
        pairings.append({
            "id": p, "school_id": school_id, "partner_school_id": partner_id, "status": status,
            "signed_on": signed_on, "start_on": start_on, "end_on": end_on,
            "ended_on": ended_on, "focus_areas": "Language, culture",
            "coordinator": f"Coordinator {p % 97 + 1}", "notes": None,
            "created_at": NOW, "updated_at": NOW, "version": 1,
        })
    # Each pairing's events were added in date order: each one lasts until the next.
    for event, after in zip(events, [*events[1:], None], strict=True):
        same = after is not None and after["pairing_id"] == event["pairing_id"]
        event["until_on"] = after["effective_on"] if same else None
    return pairings, events


def activity_rows(scale: Scale, rng: random.Random, pairings: list[dict]) -> Iterator[dict]:
    """Activities inside signed pairings, between signing and the end (streamed)."""
    signed = [(p["id"], p["signed_on"], p["ended_on"] or LAST_DAY) for p in pairings
              if p["signed_on"] is not None]
    if not signed:
        return
    for a in range(1, scale.activities + 1):
        pairing_id, first, last = signed[rng.randrange(len(signed))]
        start_on = _day(rng, first, last)
        kind = ACTIVITY_TYPES[rng.randrange(len(ACTIVITY_TYPES))]
        yield {
            "id": a, "pairing_id": pairing_id, "title": f"交流活動 {a}", "type": kind,
            "mode": ACTIVITY_MODES[kind], "start_on": start_on,
            "end_on": start_on + timedelta(days=rng.randint(0, 7)),
            "local_students": rng.randint(0, 40), "local_teachers": rng.randint(0, 4),
            "partner_students": rng.randint(0, 40), "partner_teachers": rng.randint(0, 4),
            "description": None, "evidence_url": None,
            "created_at": NOW, "updated_at": NOW, "version": 1,
        }


def user_rows() -> list[dict]:
    # Cheap scrypt parameters: sign-in is not what the benchmark measures.
    pw = generate_password_hash(PASSWORD, method="scrypt:1024:8:1")
    common = {"password_hash": pw, "school_id": None, "active": True,
              "must_change_password": False, "locale": "en", "last_login_at": None,
              "created_at": NOW, "updated_at": NOW, "version": 1}
    return [{"id": 1, "email": OFFICIAL_EMAIL, "name": "Bench official", "role": "official",
             **common},
            {"id": 2, "email": STAFF_EMAIL, "name": "Bench staff", "role": "staff", **common}]


# -- loading ---------------------------------------------------------------------------------

TABLES = {
    "district": District.__table__, "school": School.__table__,
    "partner_city": PartnerCity.__table__, "partner_school": PartnerSchool.__table__,
    "pairing": Pairing.__table__, "pairing_event": PairingEvent.__table__,
    "activity": Activity.__table__, "user_account": User.__table__,
}


def generate(session, scale: Scale | str, seed: int = SEED) -> dict[str, int]:
    """Insert a whole data set at ``scale`` into an empty schema and commit.

    Returns the number of rows inserted per table.
    """
    if isinstance(scale, str):
        scale = SCALES[scale]
    rng = random.Random(seed)
    counts: dict[str, int] = {}
    counts["district"] = _insert(session, TABLES["district"], district_rows(scale))
    counts["school"] = _insert(session, TABLES["school"], school_rows(scale, rng))
    counts["partner_city"] = _insert(session, TABLES["partner_city"], partner_city_rows(scale))
    counts["partner_school"] = _insert(session, TABLES["partner_school"],
                                       partner_rows(scale, rng))
    pairings, events = pairing_and_event_rows(scale, rng)
    counts["pairing"] = _insert(session, TABLES["pairing"], pairings)
    counts["pairing_event"] = _insert(session, TABLES["pairing_event"], events)
    counts["activity"] = _insert(session, TABLES["activity"],
                                 activity_rows(scale, rng, pairings))
    counts["user_account"] = _insert(session, TABLES["user_account"], user_rows())
    session.commit()
    _after_load(session)
    return counts


def _after_load(session) -> None:
    """PostgreSQL: move the id sequences past the explicit ids, and gather statistics (as
    autovacuum would shortly after a real load)."""
    engine = session.get_bind()
    if engine.dialect.name != "postgresql":
        return
    for name in TABLES:
        session.execute(sa.text(
            f"SELECT setval(pg_get_serial_sequence('{name}', 'id'), "
            f"(SELECT COALESCE(MAX(id), 0) + 1 FROM \"{name}\"), false)"))
    session.commit()
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(sa.text("VACUUM ANALYZE"))


def count_rows(session) -> dict[str, int]:
    return {name: session.scalar(sa.select(sa.func.count()).select_from(table))
            for name, table in TABLES.items()}


# -- import files ----------------------------------------------------------------------------

MINISTRY_HEADER = ["學年度", "代碼", "學校名稱", "公/私立", "縣市名稱", "地址", "電話", "網址"]


def write_ministry_directory(path: Path, rows: int = 2_600, seed: int = SEED) -> Path:
    """The national primary-school directory in the Ministry's CSV format (UTF-8 with BOM)."""
    rng = random.Random(seed)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8-sig", newline="") as fh:
        out = csv.writer(fh)
        out.writerow(MINISTRY_HEADER)
        for i in range(rows):
            county = COUNTIES[i % len(COUNTIES)]
            district = district_name(i % 370)
            a, b = i % len(SYLLABLES), (i // len(SYLLABLES)) % len(SYLLABLES)
            public = rng.random() < 0.95
            name = f"{'市立' if public else '私立'}{SYLLABLES[a]}{SYLLABLES[b]}國小"
            postal = 100 + i % 900
            out.writerow(["114", f"{900000 + i:06d}", name, "公立" if public else "私立",
                          county, f"[{postal}]{county}{district}中正路{i % 300 + 1}號",
                          f"(02){2000_0000 + i}", f"https://p{i:06d}.example.edu.tw"])
    return path


def write_activities_csv(session, path: Path, rows: int = 200_000, seed: int = SEED,
                         parts: int = 1) -> list[Path]:
    """``rows`` activities in the department's activity format, for the pairings that are
    active in the database (school code plus partner name, country and city), in ``parts``
    files of equal size."""
    rng = random.Random(seed)
    refs = session.execute(
        sa.select(School.code, PartnerSchool.name, PartnerSchool.country, PartnerSchool.city,
                  Pairing.signed_on)
        .join(Pairing, Pairing.school_id == School.id)
        .join(PartnerSchool, Pairing.partner_school_id == PartnerSchool.id)
        .where(Pairing.status == "active")
        .order_by(Pairing.id)
    ).all()
    path.parent.mkdir(parents=True, exist_ok=True)
    paths = [path] if parts == 1 else [path.with_name(f"{path.stem}_{k + 1}{path.suffix}")
                                       for k in range(parts)]
    handles = [p.open("w", encoding="utf-8", newline="") for p in paths]
    writers = [csv.writer(fh) for fh in handles]
    for out in writers:
        out.writerow(["school_code", "partner_name", "partner_country", "partner_city", "title",
                      "type", "mode", "start_on", "end_on", "local_students", "local_teachers",
                      "partner_students", "partner_teachers", "description", "evidence_url"])
    per_part = math.ceil(rows / parts)
    try:
        for i in range(rows):
            out = writers[i // per_part]
            code, name, country, city, signed_on = refs[rng.randrange(len(refs))]
            start = _day(rng, signed_on, LAST_DAY)
            kind = ACTIVITY_TYPES[rng.randrange(len(ACTIVITY_TYPES))]
            out.writerow([code, name, country, city, f"Imported exchange {i + 1}", kind,
                          ACTIVITY_MODES[kind], start.isoformat(),
                          (start + timedelta(days=rng.randint(0, 5))).isoformat(),
                          rng.randint(0, 40), rng.randint(0, 4), rng.randint(0, 40),
                          rng.randint(0, 4), "", ""])
    finally:
        for fh in handles:
            fh.close()
    return paths
