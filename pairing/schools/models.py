"""District and School: the local side of every pairing."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

import sqlalchemy as sa
from flask_babel import get_locale
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..common.enums import Level
from ..common.models import TimestampMixin, VersionedMixin
from ..extensions import db

if TYPE_CHECKING:
    from ..pairings.models import Pairing


def _english_ui() -> bool:
    loc = get_locale()
    return loc is not None and loc.language == "en"


class District(db.Model):
    __tablename__ = "district"
    __table_args__ = (sa.UniqueConstraint("county", "name_zh", name="uq_district_county_name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    county: Mapped[str] = mapped_column(sa.String(20), index=True)
    name_zh: Mapped[str] = mapped_column(sa.String(40))
    name_en: Mapped[str | None] = mapped_column(sa.String(80))
    postal_code: Mapped[str | None] = mapped_column(sa.String(6))

    schools: Mapped[list[School]] = relationship(back_populates="district")

    @property
    def display_name(self) -> str:
        """The name in the reader's language (English falls back to Chinese)."""
        if _english_ui() and self.name_en:
            return self.name_en
        return self.name_zh

    def __repr__(self) -> str:
        return f"<District {self.county}{self.name_zh}>"


class School(TimestampMixin, VersionedMixin, db.Model):
    __tablename__ = "school"
    __table_args__ = (
        sa.CheckConstraint("length(code) = 6", name="code_six_chars"),
        sa.CheckConstraint(
            "serves_primary OR serves_junior OR serves_senior", name="at_least_one_level"
        ),
        sa.CheckConstraint("enrolment IS NULL OR enrolment >= 0", name="enrolment_not_negative"),
        sa.CheckConstraint("length(name_zh) > 0", name="name_zh_not_empty"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(sa.String(6), unique=True)
    name_zh: Mapped[str] = mapped_column(sa.String(120), index=True)
    name_en: Mapped[str | None] = mapped_column(sa.String(200))
    district_id: Mapped[int] = mapped_column(sa.ForeignKey("district.id"), index=True)
    serves_primary: Mapped[bool] = mapped_column(default=False)
    serves_junior: Mapped[bool] = mapped_column(default=False)
    serves_senior: Mapped[bool] = mapped_column(default=False)
    is_public: Mapped[bool] = mapped_column(default=True)
    address: Mapped[str | None] = mapped_column(sa.String(300))
    phone: Mapped[str | None] = mapped_column(sa.String(40))
    website: Mapped[str | None] = mapped_column(sa.String(300))
    principal_name: Mapped[str | None] = mapped_column(sa.String(80))
    principal_email: Mapped[str | None] = mapped_column(sa.String(254))
    enrolment: Mapped[int | None]
    # A closed school leaves the goal's denominator from this date on but keeps its history.
    closed_on: Mapped[date | None]

    district: Mapped[District] = relationship(back_populates="schools")
    pairings: Mapped[list[Pairing]] = relationship(back_populates="school")

    @property
    def is_open(self) -> bool:
        return self.closed_on is None or self.closed_on > date.today()

    @property
    def levels(self) -> list[Level]:
        flags = (
            (Level.PRIMARY, self.serves_primary),
            (Level.JUNIOR, self.serves_junior),
            (Level.SENIOR, self.serves_senior),
        )
        return [lvl for lvl, on in flags if on]

    @levels.setter
    def levels(self, values) -> None:
        chosen = {Level(v) for v in values}
        self.serves_primary = Level.PRIMARY in chosen
        self.serves_junior = Level.JUNIOR in chosen
        self.serves_senior = Level.SENIOR in chosen

    @property
    def display_name(self) -> str:
        if _english_ui() and self.name_en:
            return self.name_en
        return self.name_zh

    def __repr__(self) -> str:
        return f"<School {self.code} {self.name_zh}>"
