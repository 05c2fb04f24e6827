"""Readable names for the fields and values the audit trail stores as column names and raw
values (``status: active``), in the reader's language."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from ..common.enums import ActivityMode, ActivityType, PairingStatus, Role
from ..common.i18n import country_name

FIELD_LABELS = {
    "code": _l("School code"), "name_zh": _l("Chinese name"), "name_en": _l("English name"),
    "district_id": _l("District"), "serves_primary": _l("Primary school"),
    "serves_junior": _l("Junior high school"), "serves_senior": _l("Senior high school"),
    "is_public": _l("Public"), "address": _l("Address"), "phone": _l("Phone"),
    "website": _l("Website"), "principal_name": _l("Principal's name"),
    "principal_email": _l("Principal's e-mail"), "enrolment": _l("Enrolment (students)"),
    "closed_on": _l("Closed on"), "name": _l("Name"), "name_local": _l("Name in its own language"),
    "country": _l("Country"), "region": _l("Region or state"), "city": _l("City"),
    "contact_name": _l("Contact person"), "contact_email": _l("Contact e-mail"),
    "partner_city_id": _l("Partner city"), "signed_on": _l("Signed on"),
    "twinned_on": _l("Twin city since"), "notes": _l("Notes"), "school_id": _l("School"),
    "partner_school_id": _l("Partner school"), "status": _l("Status"),
    "start_on": _l("Starts on"), "end_on": _l("Expires or renews on"),
    "ended_on": _l("Ended on"), "focus_areas": _l("Focus areas"),
    "coordinator": _l("Local coordinator"), "pairing_id": _l("Pairing"), "title": _l("Title"),
    "type": _l("Type"), "mode": _l("Mode"), "local_students": _l("Local students"),
    "local_teachers": _l("Local teachers"), "partner_students": _l("Partner students"),
    "partner_teachers": _l("Partner teachers"), "description": _l("Description"),
    "evidence_url": _l("Evidence link"), "email": _l("E-mail"), "role": _l("Role"),
    "active": _l("Active"), "must_change_password": _l("Must change password"),
    "locale": _l("Language"),
}

_ENUMS = {"status": PairingStatus, "type": ActivityType, "mode": ActivityMode, "role": Role}


def field_label(field: str) -> str:
    label = FIELD_LABELS.get(field)
    return str(label) if label is not None else field


def value_label(field: str, value):
    """Enum members by their label, countries by name; other values as stored."""
    enum_cls = _ENUMS.get(field)
    if enum_cls is not None and isinstance(value, str):
        try:
            return enum_cls(value).label
        except ValueError:
            return value
    if field == "country" and isinstance(value, str):
        return country_name(value)
    return value
