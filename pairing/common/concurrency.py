"""Optimistic concurrency for forms: a save based on a stale version is refused.

Forms carry the record's ``version`` in a hidden field. Before saving, the view calls
``stale_changes``; when the record moved on since the form was loaded, nothing is written and
the page shows, field by field, the value now saved next to the value the user submitted.
The UPDATE itself also carries ``WHERE version = …`` (``version_id_col``), so a race between
the check and the write raises ``StaleDataError``, which views treat the same way.
"""

from __future__ import annotations

from dataclasses import dataclass

from wtforms import Form


@dataclass
class FieldConflict:
    label: str
    saved: object
    yours: object


def _display(value) -> str:
    if value is None or value == "":
        return "—"
    if isinstance(value, list | tuple | set):
        return ", ".join(getattr(v, "label", str(v)) for v in value)
    return str(getattr(value, "label", value))


def stale_changes(obj, form: Form, fields: list[str] | None = None) -> list[FieldConflict] | None:
    """None when the form's version is current; otherwise the differing fields (maybe empty)."""
    submitted = form.data.get("version")
    try:
        submitted = int(submitted)
    except (TypeError, ValueError):
        submitted = None
    if submitted == obj.version:
        return None
    names = fields or [n for n in form.data if n not in ("version", "csrf_token", "submit")]
    conflicts = []
    for name in names:
        if not hasattr(obj, name):
            continue
        saved = getattr(obj, name)
        yours = form.data.get(name)
        if _display(saved) != _display(yours):
            conflicts.append(FieldConflict(str(form[name].label.text), _display(saved),
                                           _display(yours)))
    return conflicts
