"""The authorization matrix: every route × every role × method, declared per feature.

Each feature adds a module here (``tests/authz/<feature>.py``) with ``RULES: list[Rule]``.
``tests/test_authz_matrix.py`` runs them all and fails for any route in ``app.url_map``
that no rule declares, so no page ships without a policy.

Outcomes: a role in ``allowed`` must not get 403 nor a redirect to sign-in; any other
signed-in role gets 403; ``anonymous`` (unless in ``allowed``) is redirected to sign-in.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

ROLES = ("anonymous", "official", "principal_a", "principal_b", "staff", "admin")
SIGNED_IN = frozenset({"official", "principal_a", "principal_b", "staff", "admin"})
STAFF = frozenset({"staff", "admin"})
ADMIN = frozenset({"admin"})
#: Routes about school A (or its pairings/activities) that its own principal may use.
OWN_SCHOOL_A = STAFF | {"principal_a"}
EVERYONE = SIGNED_IN | {"anonymous"}


@dataclass(frozen=True)
class Rule:
    endpoint: str
    method: str  # "GET" or "POST"
    allowed: frozenset[str]
    #: URL parameters: name -> key in the world (e.g. {"school_id": "school_a"}) or a literal.
    params: dict = field(default_factory=dict)
    #: Form data for POSTs (world keys in ``{...}`` are not interpolated; use literals).
    data: dict | None = None
    #: Query string, e.g. {"format": "csv"}.
    query: dict = field(default_factory=dict)

    @property
    def id(self) -> str:
        return f"{self.method} {self.endpoint}"


def build_world(session) -> dict:
    """Two schools with one pairing and one activity each, a partner city, and a user per role.

    Keys: school_a, school_b, partner_city, partner_school, pairing_a, pairing_b,
    activity_a, activity_b, user_official, user_principal_a, user_principal_b, user_staff,
    user_admin, district. Values are ids (ints).
    """
    from .. import factories

    district = factories.make_district(session, name_zh="淡水區", name_en="Tamsui District")
    school_a = factories.make_school(session, code="014501", district=district)
    school_b = factories.make_school(session, code="014502", district=district)
    city = factories.make_partner_city(session, name="Holmdel", region="New Jersey")
    partner = factories.make_partner_school(session, name="Holmdel High", partner_city=city)
    pairing_a = factories.make_pairing(session, school=school_a, partner=partner)
    pairing_b = factories.make_pairing(session, school=school_b, partner=partner)
    activity_a = factories.make_activity(session, pairing=pairing_a, start_on=date(2024, 5, 1))
    activity_b = factories.make_activity(session, pairing=pairing_b, start_on=date(2024, 5, 2))
    users = {
        "official": factories.make_user(session, role="official"),
        "principal_a": factories.make_user(session, role="principal", school=school_a),
        "principal_b": factories.make_user(session, role="principal", school=school_b),
        "staff": factories.make_user(session, role="staff"),
        "admin": factories.make_user(session, role="admin"),
    }
    world = {
        "district": district.id, "school_a": school_a.id, "school_b": school_b.id,
        "partner_city": city.id, "partner_school": partner.id,
        "pairing_a": pairing_a.id, "pairing_b": pairing_b.id,
        "activity_a": activity_a.id, "activity_b": activity_b.id,
    }
    world.update({f"user_{role}": u.id for role, u in users.items()})
    world["emails"] = {role: u.email for role, u in users.items()}
    return world
