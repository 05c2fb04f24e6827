"""Import every model so that metadata (Alembic, tests) sees all tables."""

from .accounts.models import User
from .audit.models import AuditLog
from .dashboard.models import Setting
from .pairings.models import Activity, Pairing, PairingEvent
from .partners.models import PartnerCity, PartnerSchool
from .schools.models import District, School

__all__ = ["Activity", "AuditLog", "District", "Pairing", "PairingEvent", "PartnerCity",
           "PartnerSchool", "School", "Setting", "User"]
