"""The demo data set: reference data from data/ plus a clearly synthetic history.

Deterministic (a fixed random seed and fixed 'today' anchor) and idempotent: running it twice
changes nothing.
"""

from __future__ import annotations

import csv
from datetime import date
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from .partners.models import PartnerCity
from .schools.models import District, School

DATA = Path(__file__).resolve().parent.parent / "data"


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


def seed(session: Session, only_if_empty: bool = False) -> str:
    """Load the demo data set. Returns a one-line summary for the command line."""
    if only_if_empty and session.scalar(select(func.count()).select_from(School)):
        return "Database already has schools; demo data not loaded."
    districts = load_districts(session)
    cities = load_partner_cities(session)
    return f"Demo data: {districts} districts and {cities} partner cities added."
