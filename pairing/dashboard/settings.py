"""The four goal settings admins change at run time, stored in ``Setting`` rows.

Defaults come from configuration (TARGET_DATE, TARGET_SHARE, BASELINE_DATE, DORMANCY_MONTHS);
a stored row overrides its default. One query reads them all.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from flask import current_app
from sqlalchemy import select

from .models import Setting

KEYS = ("target_date", "target_share", "baseline_date", "dormancy_months")


@dataclass(frozen=True)
class GoalSettings:
    target_date: date
    target_share: float  # 0..1
    baseline_date: date
    dormancy_months: int


def _defaults(config) -> dict:
    return {
        "target_date": config["TARGET_DATE"],
        "target_share": float(config["TARGET_SHARE"]),
        "baseline_date": config["BASELINE_DATE"],
        "dormancy_months": int(config["DORMANCY_MONTHS"]),
    }


def _parse(key: str, raw: str):
    if key in ("target_date", "baseline_date"):
        return date.fromisoformat(raw)
    if key == "target_share":
        return float(raw)
    return int(raw)


def load_settings(session, config=None) -> GoalSettings:
    """The settings in force: stored values over configured defaults (bad rows are ignored)."""
    values = _defaults(config if config is not None else current_app.config)
    for row in session.scalars(select(Setting).where(Setting.key.in_(KEYS))):
        try:
            values[row.key] = _parse(row.key, row.value)
        except ValueError:
            current_app.logger.warning("Ignoring unreadable setting %s=%r", row.key, row.value)
    return GoalSettings(**values)


def save_settings(session, new: GoalSettings) -> None:
    """Store all four settings (the caller commits)."""
    rows = {s.key: s for s in session.scalars(select(Setting).where(Setting.key.in_(KEYS)))}
    for key in KEYS:
        value = getattr(new, key)
        text = value.isoformat() if isinstance(value, date) else str(value)
        row = rows.get(key)
        if row is None:
            session.add(Setting(key=key, value=text))
        elif row.value != text:
            row.value = text
    session.flush()
