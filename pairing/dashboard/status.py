"""A school's pairing status (stub; the dashboard feature replaces this)."""

from __future__ import annotations

from datetime import date


def school_status(session, school_id: int, on: date | None = None) -> dict:
    """{'paired': bool, 'engaged': bool, 'todo': [str]} for one school on a date."""
    return {"paired": False, "engaged": False, "todo": []}
