"""PartnerCity and PartnerSchool."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..common.enums import Level
from ..common.i18n import country_name
from ..common.models import TimestampMixin, VersionedMixin
from ..extensions import db

if TYPE_CHECKING:
    from ..pairings.models import Pairing


class PartnerCity(TimestampMixin, VersionedMixin, db.Model):
    """A city-level agreement (MOU) under which school pairings may sit."""

    __tablename__ = "partner_city"
    __table_args__ = (
        sa.UniqueConstraint("name", "country", "region", name="uq_partner_city_name_country"),
        sa.CheckConstraint("length(country) = 2", name="country_alpha2"),
        sa.CheckConstraint("length(name) > 0", name="name_not_empty"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(120))
    name_zh: Mapped[str | None] = mapped_column(sa.String(120))
    country: Mapped[str] = mapped_column(sa.String(2))
    region: Mapped[str | None] = mapped_column(sa.String(120))
    signed_on: Mapped[date | None]
    twinned_on: Mapped[date | None]
    notes: Mapped[str | None] = mapped_column(sa.Text)

    partner_schools: Mapped[list[PartnerSchool]] = relationship(back_populates="partner_city")

    @property
    def country_name(self) -> str:
        return country_name(self.country)

    @property
    def display_name(self) -> str:
        from ..schools.models import _english_ui

        if not _english_ui() and self.name_zh:
            return self.name_zh
        return self.name


class PartnerSchool(TimestampMixin, VersionedMixin, db.Model):
    __tablename__ = "partner_school"
    __table_args__ = (
        sa.UniqueConstraint("name", "country", "city", name="uq_partner_school_name_country_city"),
        sa.CheckConstraint("length(country) = 2", name="country_alpha2"),
        sa.CheckConstraint("length(name) > 0", name="name_not_empty"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(200), index=True)
    name_local: Mapped[str | None] = mapped_column(sa.String(200))
    country: Mapped[str] = mapped_column(sa.String(2), index=True)
    region: Mapped[str | None] = mapped_column(sa.String(120))
    city: Mapped[str] = mapped_column(sa.String(120), default="", server_default="")
    serves_primary: Mapped[bool] = mapped_column(default=False)
    serves_junior: Mapped[bool] = mapped_column(default=False)
    serves_senior: Mapped[bool] = mapped_column(default=False)
    website: Mapped[str | None] = mapped_column(sa.String(300))
    contact_name: Mapped[str | None] = mapped_column(sa.String(120))
    contact_email: Mapped[str | None] = mapped_column(sa.String(254))
    partner_city_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("partner_city.id"), index=True
    )

    partner_city: Mapped[PartnerCity | None] = relationship(back_populates="partner_schools")
    pairings: Mapped[list[Pairing]] = relationship(back_populates="partner_school")

    @property
    def country_name(self) -> str:
        return country_name(self.country)

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
        return self.name
