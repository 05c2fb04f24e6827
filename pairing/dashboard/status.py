"""One school's status: paired or not, engaged or dormant, its pairings and what to do next.

Rendered by ``templates/dashboard/_school_status.html`` (included on the school page with a
``status`` variable). A fixed number of statements, whatever the school's history.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from flask import current_app, url_for
from flask_babel import format_date
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import selectinload
from werkzeug.routing import BuildError

from ..common.enums import PairingStatus
from ..pairings.models import Pairing
from ..schools.models import School
from .progress import ENDING_WITHIN_DAYS, add_months, months_between
from .settings import load_settings


def record_url(endpoint: str, path: str, **values) -> str:
    """``url_for(endpoint)``, or ``path`` while that page is not built yet."""
    try:
        return url_for(endpoint, **values)
    except (BuildError, RuntimeError):  # not built yet, or no request (CLI, tests)
        return path


def local_today() -> date:
    """Today in the app's time zone (Asia/Taipei by default), not the server's."""
    try:
        tz = ZoneInfo(current_app.config.get("BABEL_DEFAULT_TIMEZONE") or "UTC")
    except RuntimeError:  # outside an app context
        return date.today()
    return datetime.now(tz).date()


def status_on(pairing: Pairing, on: date) -> PairingStatus | None:
    """The pairing's status on a date from its dated history (latest event on or before it)."""
    current = None
    for ev in sorted(pairing.events, key=lambda e: (e.effective_on, e.id)):
        if ev.effective_on <= on:
            current = ev.status
    return current


def school_status(session, school_id: int, on: date | None = None) -> dict:
    """{'paired', 'engaged', 'dormant', 'pairings': [...], 'todo': [str], ...} on a date.

    ``pairings`` lists every pairing of the school (open ones first), each with its partner,
    city, country, status today and on the date, dates, last activity and activities.
    """
    on = on or local_today()
    settings = load_settings(session)
    window_start = add_months(on, -settings.dormancy_months)
    school = session.get(School, school_id)
    pairings = session.scalars(
        select(Pairing).where(Pairing.school_id == school_id)
        .options(selectinload(Pairing.partner_school), selectinload(Pairing.events),
                 selectinload(Pairing.activities))
        .order_by(Pairing.id)
    ).all()

    items = []
    todo: list[str] = []
    for p in pairings:
        partner = p.partner_school
        past = [a for a in p.activities if a.start_on <= on]
        last = max((a.start_on for a in past), default=None)
        state = status_on(p, on)
        active = state == PairingStatus.ACTIVE
        live = active and any(window_start < a.start_on <= on for a in past)
        items.append({
            "id": p.id,
            "url": record_url("pairings.detail", f"/pairings/{p.id}", pairing_id=p.id),
            "partner": partner.name,
            "partner_local": partner.name_local,
            "city": partner.city,
            "country": partner.country,
            "status": p.status,
            "status_on_date": state,
            "active": active,
            "live": live,
            "signed_on": p.signed_on,
            "start_on": p.start_on,
            "end_on": p.end_on,
            "ended_on": p.ended_on,
            "last_activity_on": last,
            "activities": [
                {"id": a.id, "title": a.title, "type": a.type, "mode": a.mode,
                 "start_on": a.start_on, "end_on": a.end_on,
                 "students": a.local_students + a.partner_students,
                 "teachers": a.local_teachers + a.partner_teachers}
                for a in sorted(p.activities, key=lambda a: (a.start_on, a.id), reverse=True)
            ],
        })
        if active and not live:
            if last is None:
                todo.append(_("No activity recorded yet with %(partner)s: plan a first "
                              "exchange and record it.", partner=partner.name))
            else:
                todo.append(_("No activity recorded for %(months)s months with %(partner)s: "
                              "plan the next exchange.",
                              months=months_between(last, on), partner=partner.name))
        if active and p.end_on and on <= p.end_on <= on + timedelta(days=ENDING_WITHIN_DAYS):
            todo.append(_("The agreement with %(partner)s ends on %(date)s: decide whether to "
                          "renew it.", partner=partner.name, date=format_date(p.end_on)))
        if state in (PairingStatus.PROPOSED, PairingStatus.NEGOTIATING):
            todo.append(_("The pairing with %(partner)s is %(status)s: follow up to sign it.",
                          partner=partner.name, status=state.label.lower()))
        if state == PairingStatus.SUSPENDED:
            todo.append(_("The pairing with %(partner)s is suspended: resume it or end it.",
                          partner=partner.name))

    paired = any(i["active"] for i in items)
    engaged = any(i["live"] for i in items)
    in_progress = any(i["status_on_date"] in (PairingStatus.PROPOSED, PairingStatus.NEGOTIATING,
                                              PairingStatus.SUSPENDED) for i in items)
    if not paired and not in_progress:
        todo.insert(0, _("No pairing yet: propose one with a partner school."))
    order = {PairingStatus.ACTIVE: 0, PairingStatus.SUSPENDED: 1, PairingStatus.NEGOTIATING: 2,
             PairingStatus.PROPOSED: 3, PairingStatus.ENDED: 4, None: 5}
    items.sort(key=lambda i: (order[i["status_on_date"]], i["id"]))
    return {
        "school_id": school_id,
        "school_name": school.display_name if school else "",
        "on": on,
        "is_open": school is not None and (school.closed_on is None or school.closed_on > on),
        "paired": paired,
        "engaged": engaged,
        "dormant": paired and not engaged,
        "dormancy_months": settings.dormancy_months,
        "pairings": items,
        "todo": todo,
    }
