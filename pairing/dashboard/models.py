"""Settings that admins change at run time (target date, target share, baseline, dormancy)."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from ..common.models import TimestampMixin, VersionedMixin
from ..extensions import db


class Setting(TimestampMixin, VersionedMixin, db.Model):
    __tablename__ = "setting"

    key: Mapped[str] = mapped_column(sa.String(60), primary_key=True)
    value: Mapped[str] = mapped_column(sa.String(200))
