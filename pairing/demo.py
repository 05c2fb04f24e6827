"""The demo data set: reference data from data/ plus a clearly synthetic history.

Everything invented here is labelled as such: school names start with 示範 / "Demo", people
are made up, e-mail addresses use the reserved domains example.org and demo.example.org.

Deterministic: every random choice comes from ``random.Random`` objects with fixed seeds, and
the history is generated against fixed calendar dates. ``today`` only cuts the history off:
status changes run to HISTORY_END and activities continue month by month up to today, each
pairing drawing from its own generator, so the past never changes when the clock moves on.

Idempotent: rows are matched by natural keys (school code; partner school name, country and
city; pairing school and partner; activity pairing, start date and title; user e-mail; the
``demo_loaded`` setting) and only missing rows are inserted. Rows go in through bulk INSERTs,
which bypass the per-row audit listener; one 'import' audit row records the counts instead.
"""

from __future__ import annotations

import csv
import math
import random
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from pathlib import Path

from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from .audit.tracking import record
from .common.enums import ActivityMode, ActivityType, PairingStatus, Role
from .common.models import utcnow
from .dashboard.models import Setting
from .pairings.models import Activity, Pairing, PairingEvent, refresh_periods
from .partners.models import PartnerCity, PartnerSchool
from .schools.models import District, School

DATA = Path(__file__).resolve().parent.parent / "data"
DEMO_DATA = DATA / "demo"

SEED = 20300101
MARKER_KEY = "demo_loaded"
MARKER_VALUE = "v1"
HISTORY_START = date(2015, 1, 1)
HISTORY_END = date(2026, 9, 30)  # the last pairing status change in the demo history
ACTIVITY_START = date(2021, 1, 1)
MOU_SIGNED = date(2023, 10, 5)  # the city-level MOUs with the five US partner cities
DEMO_DOMAIN = "demo.example.org"

# One account per role; the sign-in page and the README show these when the demo is loaded.
DEMO_ACCOUNTS = [
    {"email": "admin@demo.example.org", "password": "demo-admin-2030", "role": "admin",
     "school_code": None, "name": "Demo Administrator"},
    {"email": "staff@demo.example.org", "password": "demo-staff-2030", "role": "staff",
     "school_code": None, "name": "Demo Staff Member"},
    {"email": "principal@demo.example.org", "password": "demo-principal-2030",
     "role": "principal", "school_code": "010101", "name": "Demo Principal"},
    {"email": "official@demo.example.org", "password": "demo-official-2030", "role": "official",
     "school_code": None, "name": "Demo Official"},
]

# School categories: (levels served) and how many of each in the city, chosen so that about
# 217 serve primary, 100 junior high and 63 senior high out of 340.
CATEGORY_COUNTS = {
    "P": 205,    # 國小
    "J": 68,     # 國中
    "JS": 20,    # 完全中學 (junior + senior)
    "S": 35,     # 高中 / 高職
    "PJ": 4,     # 國民中小學 (small rural schools)
    "PJS": 8,    # private schools serving all three levels
}
CATEGORY_LEVELS = {
    "P": (True, False, False), "J": (False, True, False), "JS": (False, True, True),
    "S": (False, False, True), "PJ": (True, True, False), "PJS": (True, True, True),
}
CATEGORY_NAMES = {  # (Chinese suffix, English kind)
    "P": ("國小", "Primary School"),
    "J": ("國中", "Junior High School"),
    "JS": ("完全中學", "Secondary School"),
    "S": ("高中", "Senior High School"),
    "PJ": ("國民中小學", "Primary and Junior High School"),
    "PJS": ("實驗學校", "K-12 School"),
}
# How likely a school of each category is to have partners (secondary schools lead).
CATEGORY_AFFINITY = {"P": 1.0, "J": 2.0, "JS": 4.0, "S": 3.5, "PJ": 0.8, "PJS": 6.0}
RURAL_POPULATION = 30000
PJ_DISTRICTS = ("石碇區", "坪林區", "烏來區", "貢寮區")
CLOSED = (  # (district, closed_on): small rural primary schools merged into neighbours
    ("平溪區", date(2019, 7, 31)),
    ("雙溪區", date(2021, 7, 31)),
    ("石門區", date(2023, 7, 31)),
)

SURNAMES = ("王李張劉陳楊黃趙吳周徐孫馬朱胡郭何林高羅鄭梁謝宋唐"
            "許韓馮鄧曹彭曾蕭田董潘袁蔡蔣余杜葉程蘇魏呂丁任沈姚盧傅鍾")
GIVEN = "安平明華志文英美玉國建俊宏偉雅婷怡君佳慧淑芬家豪冠宇"
FIRST_NAMES = ("Alex", "Sam", "Jordan", "Taylor", "Morgan", "Casey", "Riley", "Jamie", "Robin",
               "Avery", "Quinn", "Drew", "Kim", "Lee", "Noa", "Yuki", "Min", "Ari", "Eli",
               "Dana")
FOCUS_AREAS = ("language learning", "culture", "STEM", "sports", "arts", "environment",
               "global citizenship", "digital literacy")
THEMES = ("festivals", "food culture", "climate action", "ocean conservation", "robotics",
          "reading club", "music", "sports day", "local history", "science fair",
          "English conversation", "mathematics", "art", "traditional games", "sustainability",
          "coding", "school life", "careers", "tea culture", "night markets", "astronomy",
          "photography", "poetry", "biodiversity", "entrepreneurship", "health and wellbeing")
TYPE_PHRASE = {
    ActivityType.VIRTUAL: "virtual exchange",
    ActivityType.OUTBOUND: "study visit abroad",
    ActivityType.INBOUND: "partner visit",
    ActivityType.TEACHER: "teacher exchange",
    ActivityType.STUDENT: "student exchange",
    ActivityType.PROJECT: "joint project",
    ActivityType.OTHER: "online gathering",
}
SEASON = (0.6, 0.5, 1.2, 1.2, 1.2, 0.8, 1.0, 0.8, 1.0, 1.3, 1.3, 1.1)

# Partner school kinds per country: (English kind, local kind or None, levels); the first
# entries cover every level so that each country has a partner for each kind of school.
_US = [("Elementary School", (True, False, False)), ("Middle School", (False, True, False)),
       ("High School", (False, False, True)), ("K-8 School", (True, True, False))]
_UK = [("Primary School", (True, False, False)), ("Secondary School", (False, True, True)),
       ("Academy", (False, True, True)), ("Grammar School", (True, True, True))]
_GENERIC = [("Primary School", (True, False, False)), ("Secondary School", (False, True, True)),
            ("High School", (False, False, True)), ("Middle School", (False, True, False))]
PARTNER_KINDS = {
    "US": _US, "CA": _US, "GB": _UK, "AU": _UK, "NZ": _UK, "SG": _UK, "MY": _UK,
    "JP": [("Elementary School", (True, False, False)),
           ("Junior High School", (False, True, False)),
           ("Senior High School", (False, False, True)),
           ("Secondary School", (False, True, True))],
    "KR": [("Elementary School", (True, False, False)), ("Middle School", (False, True, False)),
           ("High School", (False, False, True))],
    "DE": [("Primary School", (True, False, False)), ("Gymnasium", (False, True, True)),
           ("Comprehensive School", (False, True, True))],
    "FR": [("Primary School", (True, False, False)), ("Collège", (False, True, False)),
           ("Lycée", (False, False, True))],
}
LOCAL_KIND = {
    ("JP", "Elementary School"): "小学校", ("JP", "Junior High School"): "中学校",
    ("JP", "Senior High School"): "高等学校", ("JP", "Secondary School"): "中等教育学校",
    ("KR", "Elementary School"): "초등학교", ("KR", "Middle School"): "중학교",
    ("KR", "High School"): "고등학교",
}


# --------------------------------------------------------------------------- reference data
def load_districts(session: Session, path: Path = DATA / "districts_new_taipei.csv") -> int:
    """Insert the districts that are missing; return how many were added."""
    existing = {(d.county, d.name_zh) for d in session.scalars(select(District))}
    added = 0
    with path.open(encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            if (row["county"], row["name_zh"]) in existing:
                continue
            session.add(District(county=row["county"], name_zh=row["name_zh"],
                                 name_en=row["name_en"], postal_code=row["postal_code"]))
            added += 1
    session.flush()
    return added


def load_partner_cities(session: Session, path: Path = DATA / "partner_cities.csv") -> int:
    existing = {(c.name, c.country) for c in session.scalars(select(PartnerCity))}
    added = 0
    with path.open(encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            if (row["name"], row["country"]) in existing:
                continue
            session.add(PartnerCity(
                name=row["name"], name_zh=row["name_zh"] or None, country=row["country"],
                region=row["region"] or None,
                signed_on=date.fromisoformat(row["signed_on"]) if row["signed_on"] else None,
                twinned_on=date.fromisoformat(row["twinned_on"]) if row["twinned_on"] else None,
                notes=row["notes"] or None,
            ))
            added += 1
    session.flush()
    return added


def _read_csv(path: Path) -> list[dict]:
    with path.open(encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


# --------------------------------------------------------------------------- the plan
@dataclass
class PairingPlan:
    school_code: str
    partner_key: tuple[str, str, str]
    events: list[tuple[PairingStatus, date]]
    focus_areas: str
    coordinator: str
    rate: float = 1.0  # activities per year while active
    dormant_from: date | None = None
    activities: list[dict] = field(default_factory=list)


@dataclass
class Plan:
    schools: list[dict]
    partners: list[dict]
    pairings: list[PairingPlan]


def _person(rng: random.Random) -> str:
    """A synthetic Chinese name with 示 in it: 王示安."""
    return rng.choice(SURNAMES) + "示" + rng.choice(GIVEN)


def _day(rng: random.Random, start: date, end: date) -> date:
    return start + timedelta(days=rng.randint(0, max(0, (end - start).days)))


def _allocate(weights: dict[str, float], total: int) -> dict[str, int]:
    """Largest-remainder allocation of ``total`` in proportion to ``weights``."""
    whole = sum(weights.values())
    raw = {k: total * w / whole for k, w in weights.items()}
    out = {k: math.floor(v) for k, v in raw.items()}
    for k in sorted(raw, key=lambda k: (out[k] - raw[k], k))[: total - sum(out.values())]:
        out[k] += 1
    return out


def plan_schools(districts: list[dict]) -> list[dict]:
    """About 340 schools spread over the districts: 3 each plus a share by population."""
    rng = random.Random(f"{SEED}-schools")
    population = {r["name_zh"]: int(r["population"])
                  for r in _read_csv(DEMO_DATA / "district_population.csv")}
    total = sum(CATEGORY_COUNTS.values())
    base = 3
    extra = _allocate({d["name_zh"]: population[d["name_zh"]] for d in districts},
                      total - base * len(districts))
    per_district = {d["name_zh"]: base + extra[d["name_zh"]] for d in districts}

    pool = Counter(CATEGORY_COUNTS)
    slots: dict[str, list[str]] = {}
    for d in districts:  # rural districts: primary schools, one junior high, 國民中小學
        name = d["name_zh"]
        if population[name] >= RURAL_POPULATION:
            continue
        n = per_district[name]
        cats = ["P"] * n
        if name in PJ_DISTRICTS:
            cats[1] = "PJ"
        if n >= 3:
            cats[-1] = "J"
        slots[name] = cats
        pool.subtract(cats)
    rest = [c for c in sorted(pool) for _ in range(pool[c])]
    rng.shuffle(rest)
    for d in districts:
        name = d["name_zh"]
        if name not in slots:
            n = per_district[name]
            slots[name], rest = rest[:n], rest[n:]
    assert not rest

    # A private share of about 10%: every K-12 school, many vocational highs, a few others.
    schools: list[dict] = []
    letter_no = 61
    for d_index, d in enumerate(districts, start=1):
        name = d["name_zh"]
        short_zh = name.removesuffix("區")
        short_en = (d["name_en"] or name).removesuffix(" District")
        rural = population[name] < RURAL_POPULATION
        numbers: Counter = Counter()
        digit_seq = 0
        for cat in sorted(slots[name], key=lambda c: list(CATEGORY_COUNTS).index(c)):
            private = cat == "PJS" or (not rural and (
                (cat == "S" and rng.random() < 0.45) or (cat == "JS" and rng.random() < 0.2)
                or (cat == "P" and rng.random() < 0.025)))
            vocational = cat == "S" and rng.random() < 0.4
            numbers[(cat, private, vocational)] += 1
            n = numbers[(cat, private, vocational)]
            suffix_zh, kind_en = CATEGORY_NAMES[cat]
            if vocational:
                suffix_zh, kind_en = "高職", "Vocational High School"
            if cat == "PJS":
                code = f"01{d_index % 10}C{letter_no:02d}"
                letter_no += 1
            else:
                digit_seq += 1
                code = f"01{d_index:02d}{digit_seq:02d}"
            primary, junior, senior = CATEGORY_LEVELS[cat]
            if cat in ("P", "PJ"):
                enrolment = rng.randint(20, 160) if rural else rng.randint(280, 2400)
            elif cat == "J":
                enrolment = rng.randint(60, 250) if rural else rng.randint(300, 2100)
            else:
                enrolment = rng.randint(600, 3200)
            schools.append({
                "code": code,
                "name_zh": f"示範{'私立' if private else ''}{short_zh}第{n}{suffix_zh}",
                "name_en": (f"Demo {short_en} {'Private ' if private else ''}{kind_en} "
                            f"No. {n}"),
                "district": name,
                "category": cat,
                "serves_primary": primary,
                "serves_junior": junior,
                "serves_senior": senior,
                "is_public": not private,
                "address": f"新北市{name}示範路{rng.randint(1, 400)}號",
                "phone": f"02-0000-{len(schools) + 1:04d}",
                "website": f"https://{code.lower()}.{DEMO_DOMAIN}/",
                "principal_name": _person(rng),
                "principal_email": f"principal.{code.lower()}@{DEMO_DOMAIN}",
                "enrolment": enrolment,
                "closed_on": None,
                "rural": rural,
            })
    for district, closed_on in CLOSED:
        candidates = [s for s in schools if s["district"] == district and s["category"] == "P"]
        candidates[-1]["closed_on"] = closed_on
        candidates[-1]["enrolment"] = 0
    return schools


def plan_partners() -> list[dict]:
    """About 300 partner schools in 21 countries, placed in real cities, named 'Demo ...'."""
    rng = random.Random(f"{SEED}-partners")
    partners: list[dict] = []
    per_country: Counter = Counter()
    names: Counter = Counter()
    for place in _read_csv(DEMO_DATA / "partner_places.csv"):
        country = place["country"]
        kinds = PARTNER_KINDS.get(country, _GENERIC)
        for _ in range(int(place["schools"])):
            kind, levels = kinds[per_country[country] % len(kinds)]
            per_country[country] += 1
            base = f"Demo {place['city']} {kind}"
            names[base] += 1
            name = base if names[base] == 1 else f"{base} No. {names[base]}"
            local_kind = LOCAL_KIND.get((country, kind))
            name_local = None
            if local_kind and place["city_local"]:
                sep = " " if country == "KR" else ""
                number = f"{sep}第{names[base]}" if names[base] > 1 and country == "JP" else ""
                prefix = "데모" if country == "KR" else "デモ"
                name_local = f"{prefix}{sep}{place['city_local']}{number}{sep}{local_kind}"
                if country == "KR" and names[base] > 1:
                    name_local += f" {names[base]}"
            slug = name.lower().replace(" ", "-").replace(".", "")
            first = rng.choice(FIRST_NAMES)
            partners.append({
                "name": name, "name_local": name_local, "country": country,
                "region": place["region"] or None, "city": place["city"],
                "serves_primary": levels[0], "serves_junior": levels[1],
                "serves_senior": levels[2],
                "website": f"https://{slug}.example.org/",
                "contact_name": f"{first} Example",
                "contact_email": f"exchange{len(partners) + 1:03d}@example.org",
                "partner_city": place["partner_city"] or None,
            })
    return partners


def _weighted_order(rng: random.Random, items: list, weight) -> list:
    """Items in a weighted random order (Efraimidis-Spirakis keys)."""
    return sorted(items, key=lambda it: -rng.random() ** (1.0 / weight(it)))


def _overlap(school: dict, partner: dict) -> bool:
    return any(school[k] and partner[k] for k in ("serves_primary", "serves_junior",
                                                   "serves_senior"))


def _partner_key(p: dict) -> tuple[str, str, str]:
    return (p["name"], p["country"], p["city"])


class _Matcher:
    """Picks partners: the chosen country, levels that overlap, the least used first."""

    def __init__(self, rng: random.Random, partners: list[dict]):
        self.rng = rng
        self.by_country: dict[str, list[dict]] = defaultdict(list)
        for p in partners:
            self.by_country[p["country"]].append(p)
        self.countries = sorted(self.by_country)
        self.uses: Counter = Counter()
        self.taken: set[tuple[str, tuple]] = set()

    def available(self, partner: dict, signed: date) -> bool:
        city = partner["partner_city"]
        if city is None:
            return True
        # Partner-city schools join after the MOUs; Cupertino has been a twin city since 2021.
        return signed >= (date(2021, 1, 1) if city == "Cupertino" else MOU_SIGNED)

    def country(self, signed: date) -> str:
        weights = [len(self.by_country[c]) * (1.6 if c == "US" and signed >= MOU_SIGNED else 1)
                   for c in self.countries]
        return self.rng.choices(self.countries, weights)[0]

    def pick(self, school: dict, country: str, signed: date) -> dict | None:
        candidates = [p for p in self.by_country[country]
                      if (school["code"], _partner_key(p)) not in self.taken
                      and self.available(p, signed)]
        if not candidates:
            return None
        boost = 3 if signed >= MOU_SIGNED else 1
        self.rng.shuffle(candidates)
        candidates.sort(key=lambda p: (not _overlap(school, p),
                                       self.uses[_partner_key(p)]
                                       - (boost if p["partner_city"] else 0)))
        chosen = candidates[0]
        self.uses[_partner_key(chosen)] += 1
        self.taken.add((school["code"], _partner_key(chosen)))
        return chosen


def _lifecycle(rng: random.Random, signed: date, stable: bool) -> list[tuple[PairingStatus, date]]:
    """Proposed, negotiating, active; then perhaps suspended, resumed or ended."""
    proposed = signed - timedelta(days=rng.randint(60, 240))
    negotiating = proposed + timedelta(days=rng.randint(14, (signed - proposed).days - 14))
    events = [(PairingStatus.PROPOSED, proposed), (PairingStatus.NEGOTIATING, negotiating),
              (PairingStatus.ACTIVE, signed)]
    r = rng.random()  # drawn either way, so that later draws do not depend on ``stable``
    if stable:
        return events
    if r < 0.08:
        events.append((PairingStatus.ENDED, signed + timedelta(days=rng.randint(500, 2200))))
    elif r < 0.16:
        suspended = signed + timedelta(days=rng.randint(300, 1500))
        events.append((PairingStatus.SUSPENDED, suspended))
        s = rng.random()
        if s < 0.35:
            events.append((PairingStatus.ACTIVE, suspended + timedelta(days=rng.randint(150, 500))))
        elif s < 0.6:
            events.append((PairingStatus.ENDED, suspended + timedelta(days=rng.randint(100, 400))))
    return [(st, d) for st, d in events if d <= HISTORY_END]


def plan_pairings(schools: list[dict], partners: list[dict]) -> list[PairingPlan]:
    rng = random.Random(f"{SEED}-pairings")
    matcher = _Matcher(rng, partners)
    open_schools = [s for s in schools if s["closed_on"] is None]

    def affinity(s: dict) -> float:
        return CATEGORY_AFFINITY[s["category"]] * (0.5 if s["rural"] else 1.0) * (
            1.0 + s["enrolment"] / 2000)

    order = _weighted_order(rng, open_schools, affinity)
    principal_code = next(a["school_code"] for a in DEMO_ACCOUNTS if a["school_code"])
    order.sort(key=lambda s: s["code"] != principal_code)  # the demo principal's school first
    # 86 schools paired by the end of 2023 (the published baseline), 70 more since.
    early, late = order[:86], order[86:156]
    aspiring = order[156:176]
    early_years = [2015] * 4 + [2016] * 5 + [2017] * 7 + [2018] * 9 + [2019] * 11 + \
        [2020] * 8 + [2021] * 10 + [2022] * 13 + [2023] * 19
    late_years = [2024] * 24 + [2025] * 26 + [2026] * 20
    rng.shuffle(early_years)
    rng.shuffle(late_years)
    early_years[0] = 2018  # the principal's school: a long history to show

    plans: list[PairingPlan] = []
    countries_left = sorted(matcher.by_country)  # the first pairings cover all 21 countries
    rng.shuffle(countries_left)

    def add(school: dict, signed: date, stable: bool, country: str | None = None) -> None:
        for _ in range(5):
            partner = matcher.pick(school, country or matcher.country(signed), signed)
            if partner is not None:
                break
            country = None
        else:  # pragma: no cover - 300 partners are plenty
            return
        events = _lifecycle(rng, signed, stable)
        plans.append(PairingPlan(
            school_code=school["code"], partner_key=_partner_key(partner), events=events,
            focus_areas=", ".join(rng.sample(FOCUS_AREAS, rng.randint(1, 3))),
            coordinator=_person(rng),
            rate=rng.choices((0.6, 1.3, 2.2, 3.4), (30, 35, 25, 10))[0],
            dormant_from=(_day(rng, date(2023, 1, 1), date(2025, 6, 30))
                          if rng.random() < 0.15 else None),
        ))

    sizes = (1, 2, 3, 4, 5, 6, 8, 10)
    size_weights = (30, 22, 15, 12, 8, 6, 4, 3)
    for school, year in zip(early, early_years, strict=True):
        first = _day(rng, date(year, 1, 10), date(year, 12, 15))
        add(school, first, stable=True, country=countries_left.pop() if countries_left else None)
        extra = rng.choices(sizes, size_weights)[0] - 1
        if school["category"] in ("P", "PJ"):
            extra = min(extra, 2)
        for _ in range(extra):
            add(school, _day(rng, first + timedelta(days=30), date(2023, 12, 20)), stable=False)
        if rng.random() < 0.35:
            add(school, _day(rng, date(2024, 1, 15), HISTORY_END), stable=False)
    for school, year in zip(late, late_years, strict=True):
        first = _day(rng, date(year, 1, 10), min(date(year, 12, 15), HISTORY_END))
        add(school, first, stable=True)
        if rng.random() < 0.3:
            add(school, _day(rng, first + timedelta(days=30), HISTORY_END + timedelta(days=60)),
                stable=False)

    # Proposals in progress (some for schools with no partner yet) and a few that failed.
    for i, school in enumerate(aspiring + early[5:15]):
        signed_guess = _day(rng, date(2026, 3, 1), date(2026, 12, 31))
        partner = matcher.pick(school, matcher.country(signed_guess), signed_guess)
        if partner is None:
            continue
        proposed = _day(rng, date(2025, 11, 1), date(2026, 8, 31))
        events = [(PairingStatus.PROPOSED, proposed)]
        if i % 3 == 0:
            events.append((PairingStatus.NEGOTIATING, proposed + timedelta(days=rng.randint(
                10, 30))))
        if i % 7 == 6:
            events = [(PairingStatus.PROPOSED, proposed - timedelta(days=700)),
                      (PairingStatus.NEGOTIATING, proposed - timedelta(days=640)),
                      (PairingStatus.ENDED, proposed - timedelta(days=500))]
        plans.append(PairingPlan(school_code=school["code"], partner_key=_partner_key(partner),
                                 events=events, focus_areas=rng.choice(FOCUS_AREAS),
                                 coordinator=_person(rng), rate=0.0))

    # The school that closed in 2023 had a partner until it closed.
    closed = next(s for s in schools if s["closed_on"] == date(2023, 7, 31))
    partner = matcher.pick(closed, "JP", date(2017, 5, 10))
    plans.append(PairingPlan(
        school_code=closed["code"], partner_key=_partner_key(partner),
        events=[(PairingStatus.PROPOSED, date(2017, 1, 16)),
                (PairingStatus.ACTIVE, date(2017, 5, 10)),
                (PairingStatus.ENDED, closed["closed_on"])],
        focus_areas="culture", coordinator=_person(rng), rate=1.0,
    ))
    return plans


def _active_periods(events: list[tuple[PairingStatus, date]], until: date):
    start = None
    for status, when in events:
        if status == PairingStatus.ACTIVE and start is None:
            start = when
        elif status != PairingStatus.ACTIVE and start is not None:
            yield start, when
            start = None
    if start is not None:
        yield start, until


def _mode_and_type(rng: random.Random, year: int) -> tuple[ActivityMode, ActivityType]:
    if year <= 2021:
        weights = (92, 0, 8)
    elif year == 2022:
        weights = (75, 15, 10)
    elif year == 2023:
        weights = (50, 38, 12)
    else:
        weights = (38, 47, 15)
    mode = rng.choices((ActivityMode.VIRTUAL, ActivityMode.IN_PERSON, ActivityMode.HYBRID),
                       weights)[0]
    if mode == ActivityMode.VIRTUAL:
        kind = rng.choices((ActivityType.VIRTUAL, ActivityType.PROJECT, ActivityType.TEACHER,
                            ActivityType.OTHER), (70, 18, 7, 5))[0]
    elif mode == ActivityMode.IN_PERSON:
        kind = rng.choices((ActivityType.OUTBOUND, ActivityType.INBOUND, ActivityType.STUDENT,
                            ActivityType.TEACHER, ActivityType.PROJECT),
                           (30, 30, 15, 15, 10))[0]
    else:
        kind = rng.choices((ActivityType.PROJECT, ActivityType.VIRTUAL, ActivityType.INBOUND),
                           (50, 35, 15))[0]
    return mode, kind


def _counts(rng: random.Random, kind: ActivityType) -> tuple[int, int, int, int, int]:
    """(local students, local teachers, partner students, partner teachers, days)."""
    r = rng.randint
    if kind == ActivityType.VIRTUAL:
        return r(12, 40), r(1, 4), r(10, 40), r(1, 4), 0
    if kind == ActivityType.OUTBOUND:
        return r(8, 30), r(2, 5), r(15, 60), r(2, 6), r(4, 12)
    if kind == ActivityType.INBOUND:
        return r(20, 80), r(2, 8), r(8, 35), r(2, 5), r(3, 10)
    if kind == ActivityType.TEACHER:
        return 0, r(1, 6), 0, r(1, 6), r(4, 28)
    if kind == ActivityType.STUDENT:
        return r(1, 8), r(0, 2), r(1, 8), r(0, 2), r(14, 120)
    if kind == ActivityType.PROJECT:
        return r(15, 60), r(2, 6), r(15, 60), r(2, 6), r(30, 150)
    return r(10, 50), r(1, 4), r(5, 30), r(1, 3), 0


def plan_activities(plan: PairingPlan, index: int, today: date) -> list[dict]:
    """Activities month by month while the pairing is active, up to today."""
    if plan.rate <= 0:
        return []
    rng = random.Random(f"{SEED}-activities-{index}")
    out: list[dict] = []
    for number, (start, stop) in enumerate(_active_periods(plan.events, date(9999, 12, 31))):
        kickoff = start + timedelta(days=rng.randint(7, 60))
        students = rng.randint(10, 30)
        if number == 0 and ACTIVITY_START <= kickoff <= today and kickoff < stop:
            out.append({
                "title": "Demo kick-off meeting: introductions",
                "type": ActivityType.VIRTUAL, "mode": ActivityMode.VIRTUAL,
                "start_on": kickoff, "end_on": None,
                "local_students": students, "local_teachers": 2,
                "partner_students": students, "partner_teachers": 2,
                "description": "Synthetic demo record.", "evidence_url": None,
            })
        month = date(max(start, ACTIVITY_START).year, max(start, ACTIVITY_START).month, 1)
        while month <= today and month < stop:
            draw = rng.random()
            day = rng.randint(1, 28)
            mode, kind = _mode_and_type(rng, month.year)
            counts = _counts(rng, kind)
            theme = rng.choice(THEMES)
            evidence = rng.random() < 0.3
            when = month.replace(day=day)
            if (draw < plan.rate / 12 * SEASON[month.month - 1] and start <= when < stop
                    and when <= today
                    and (plan.dormant_from is None or when < plan.dormant_from)):
                ls, lt, ps, pt, days = counts
                out.append({
                    "title": f"Demo {TYPE_PHRASE[kind]}: {theme}",
                    "type": kind, "mode": mode, "start_on": when,
                    "end_on": when + timedelta(days=days) if days else None,
                    "local_students": ls, "local_teachers": lt,
                    "partner_students": ps, "partner_teachers": pt,
                    "description": "Synthetic demo record.",
                    "evidence_url": (f"https://{DEMO_DOMAIN}/evidence/{index}-{when.isoformat()}"
                                     if evidence else None),
                })
            month = (month + timedelta(days=32)).replace(day=1)
    return out


def build_plan(districts: list[dict], today: date) -> Plan:
    """The whole synthetic data set as plain data; the same inputs give the same plan."""
    schools = plan_schools(districts)
    partners = plan_partners()
    pairings = []
    for index, p in enumerate(plan_pairings(schools, partners)):
        p.events = [(st, d) for st, d in p.events if d <= today]
        if not p.events:
            continue
        p.activities = plan_activities(p, index, today)
        pairings.append(p)
    return Plan(schools=schools, partners=partners, pairings=pairings)


# --------------------------------------------------------------------------- loading
def demo_loaded(session: Session) -> bool:
    """True when the demo data set has been loaded into this database."""
    return session.get(Setting, MARKER_KEY) is not None


def _stamp(when: date) -> datetime:
    return datetime.combine(when, time(9, 0))


def _bulk(session: Session, model, rows: list[dict]) -> None:
    """One executemany per table. Core, not ORM bulk: the ORM splits the batch wherever the
    None columns differ, and Core inserts bypass the per-row audit listener as intended."""
    if rows:
        session.execute(insert(model.__table__), rows)


def seed(session: Session, only_if_empty: bool = False, today: date | None = None) -> str:
    """Load the demo data set; return a one-line summary for the command line."""
    if only_if_empty and session.scalar(select(func.count()).select_from(School)):
        return "Database already has schools; demo data not loaded."
    today = today or date.today()
    added: Counter = Counter()
    added["districts"] = load_districts(session)
    added["partner cities"] = load_partner_cities(session)

    districts = [{"id": d.id, "name_zh": d.name_zh, "name_en": d.name_en}
                 for d in session.scalars(select(District).where(District.county == "新北市")
                                          .order_by(District.id))]
    order = {r["name_zh"]: i for i, r in enumerate(_read_csv(DATA / "districts_new_taipei.csv"))}
    districts = sorted((d for d in districts if d["name_zh"] in order),  # ignore added ones
                       key=lambda d: order[d["name_zh"]])
    district_ids = {d["name_zh"]: d["id"] for d in districts}
    plan = build_plan(districts, today)
    now = utcnow()
    stamps = {"created_at": now, "updated_at": now, "version": 1}

    # Schools, by code.
    have = set(session.scalars(select(School.code)))
    rows = [{**{k: v for k, v in s.items() if k not in ("district", "category", "rural")},
             "district_id": district_ids[s["district"]], **stamps}
            for s in plan.schools if s["code"] not in have]
    _bulk(session, School, rows)
    added["schools"] = len(rows)

    # Partner schools, by (name, country, city).
    city_ids = {c.name: c.id for c in session.scalars(select(PartnerCity)
                                                      .where(PartnerCity.country == "US"))}
    have = set(session.execute(select(PartnerSchool.name, PartnerSchool.country,
                                      PartnerSchool.city)))
    rows = [{**{k: v for k, v in p.items() if k != "partner_city"},
             "partner_city_id": city_ids.get(p["partner_city"]) if p["partner_city"] else None,
             **stamps}
            for p in plan.partners if _partner_key(p) not in have]
    _bulk(session, PartnerSchool, rows)
    added["partner schools"] = len(rows)

    # Pairings, by (school, partner), with their events.
    school_ids = dict(session.execute(select(School.code, School.id)).all())
    partner_ids = {(n, c, t): i for i, n, c, t in session.execute(
        select(PartnerSchool.id, PartnerSchool.name, PartnerSchool.country, PartnerSchool.city))}
    keyed = {(school_ids[p.school_code], partner_ids[p.partner_key]): p for p in plan.pairings}
    have = set(session.execute(select(Pairing.school_id, Pairing.partner_school_id)))
    rows = []
    for (school_id, partner_id), p in keyed.items():
        if (school_id, partner_id) in have:
            continue
        status = p.events[-1][0]
        active_days = [d for st, d in p.events if st == PairingStatus.ACTIVE]
        signed = active_days[0] if active_days else None
        rows.append({
            "school_id": school_id, "partner_school_id": partner_id, "status": status,
            "signed_on": signed, "start_on": signed, "end_on": None,
            "ended_on": p.events[-1][1] if status == PairingStatus.ENDED else None,
            "focus_areas": p.focus_areas, "coordinator": p.coordinator,
            "notes": "Synthetic demo pairing.", **stamps,
        })
    _bulk(session, Pairing, rows)
    added["pairings"] = len(rows)
    new_keys = {(r["school_id"], r["partner_school_id"]) for r in rows}
    pairing_ids = {(s, t): i for i, s, t in session.execute(
        select(Pairing.id, Pairing.school_id, Pairing.partner_school_id).order_by(Pairing.id))}
    events = [{"pairing_id": pairing_ids[key], "status": st, "effective_on": when,
               "recorded_at": _stamp(when)}
              for key, p in keyed.items() if key in new_keys for st, when in p.events]
    _bulk(session, PairingEvent, events)
    refresh_periods(session)
    added["pairing events"] = len(events)

    # Activities, by (pairing, start date, title).
    have = set(session.execute(select(Activity.pairing_id, Activity.start_on,
                                      Activity.title)))
    rows = []
    for key, p in keyed.items():
        pairing_id = pairing_ids[key]
        for a in p.activities:
            if (pairing_id, a["start_on"], a["title"]) not in have:
                rows.append({**a, "pairing_id": pairing_id, **stamps})
    _bulk(session, Activity, rows)
    added["activities"] = len(rows)

    added["demo accounts"] = _load_accounts(session, school_ids)
    if session.get(Setting, MARKER_KEY) is None:
        session.add(Setting(key=MARKER_KEY, value=MARKER_VALUE))
    session.flush()

    counts = {k: v for k, v in added.items() if v}
    if counts:
        record(session, "import", label="demo data", changes=dict(counts))
    if not counts:
        return "Demo data already loaded; nothing added."
    return "Demo data added: " + ", ".join(f"{v} {k}" for k, v in added.items()) + "."


@lru_cache(maxsize=8)
def _password_hash(password: str) -> str:
    """scrypt is slow by design; a process that seeds several databases (the tests) hashes
    each demo password once."""
    from .accounts.models import User

    user = User()
    user.set_password(password)
    return user.password_hash


def _load_accounts(session: Session, school_ids: dict[str, int]) -> int:
    from .accounts.models import User

    have = set(session.scalars(select(User.email)))
    added = 0
    for account in DEMO_ACCOUNTS:
        if account["email"] in have:
            continue
        user = User(email=account["email"], name=account["name"], role=Role(account["role"]),
                    school_id=school_ids[account["school_code"]] if account["school_code"]
                    else None)
        user.password_hash = _password_hash(account["password"])
        session.add(user)
        added += 1
    return added
