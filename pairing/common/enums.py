"""Fixed vocabularies. Values are stored as these lowercase strings; labels go through Babel."""

from __future__ import annotations

import enum

from flask_babel import lazy_gettext as _l


class LabelledEnum(enum.StrEnum):
    """A string enum whose members carry a translatable label."""

    @property
    def label(self) -> str:
        return str(self._labels()[self.value])

    @classmethod
    def _labels(cls) -> dict:
        raise NotImplementedError

    @classmethod
    def choices(cls) -> list[tuple[str, str]]:
        return [(m.value, m.label) for m in cls]


class Level(LabelledEnum):
    PRIMARY = "primary"
    JUNIOR = "junior"
    SENIOR = "senior"

    @classmethod
    def _labels(cls) -> dict:
        return {"primary": _l("Primary school"), "junior": _l("Junior high school"),
                "senior": _l("Senior high school")}


class PairingStatus(LabelledEnum):
    PROPOSED = "proposed"
    NEGOTIATING = "negotiating"
    ACTIVE = "active"
    SUSPENDED = "suspended"
    ENDED = "ended"

    @classmethod
    def _labels(cls) -> dict:
        return {"proposed": _l("Proposed"), "negotiating": _l("Negotiating"),
                "active": _l("Active (signed)"), "suspended": _l("Suspended"),
                "ended": _l("Ended")}


class ActivityType(LabelledEnum):
    VIRTUAL = "virtual_exchange"
    OUTBOUND = "outbound_visit"
    INBOUND = "inbound_visit"
    TEACHER = "teacher_exchange"
    STUDENT = "student_exchange"
    PROJECT = "joint_project"
    OTHER = "other"

    @classmethod
    def _labels(cls) -> dict:
        return {"virtual_exchange": _l("Virtual exchange"), "outbound_visit": _l("Outbound visit"),
                "inbound_visit": _l("Inbound visit"), "teacher_exchange": _l("Teacher exchange"),
                "student_exchange": _l("Student exchange"), "joint_project": _l("Joint project"),
                "other": _l("Other")}


class ActivityMode(LabelledEnum):
    VIRTUAL = "virtual"
    IN_PERSON = "in_person"
    HYBRID = "hybrid"

    @classmethod
    def _labels(cls) -> dict:
        return {"virtual": _l("Virtual"), "in_person": _l("In person"), "hybrid": _l("Hybrid")}


class Role(LabelledEnum):
    ADMIN = "admin"
    STAFF = "staff"
    PRINCIPAL = "principal"
    OFFICIAL = "official"

    @classmethod
    def _labels(cls) -> dict:
        return {"admin": _l("Administrator"), "staff": _l("Education department staff"),
                "principal": _l("Principal"), "official": _l("Official (read-only)")}


def enum_column_values(enum_cls: type[enum.Enum]) -> list[str]:
    """Values for ``sqlalchemy.Enum(values_callable=...)`` so the database stores values."""
    return [m.value for m in enum_cls]
