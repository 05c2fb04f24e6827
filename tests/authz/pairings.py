"""Pairings and activities: everyone signed in reads; staff manage every pairing; a principal
proposes pairings for their own school and manages its activities.

POSTs carry data that cannot change anything (a stale version, a missing title), so the rules
can run in any order on one world: an allowed role gets a refusal page (409/422), never 403.
"""

from . import SIGNED_IN, STAFF, Rule

PRINCIPALS = frozenset({"principal_a", "principal_b"})
#: Pairing A and its activities: staff plus the principal of school A.
OWN_A = STAFF | {"principal_a"}

RULES = [
    Rule("pairings.index", "GET", SIGNED_IN),
    Rule("pairings.activities", "GET", SIGNED_IN),
    Rule("pairings.detail", "GET", SIGNED_IN, params={"pairing_id": "pairing_a"}),
    # Any principal may open the form (for their own school); officials may not.
    Rule("pairings.new", "GET", STAFF | PRINCIPALS),
    # School A's code in the form: principal B is refused (form tampering); the form lacks a
    # partner school, so nothing is saved for anyone.
    Rule("pairings.new", "POST", OWN_A, data={"school_code": "014501", "status": "proposed"}),
    # Pairing A is active: only staff change an active pairing.
    Rule("pairings.edit", "GET", STAFF, params={"pairing_id": "pairing_a"}),
    Rule("pairings.edit", "POST", STAFF, params={"pairing_id": "pairing_a"},
         data={"version": "0"}),
    Rule("pairings.delete", "GET", STAFF, params={"pairing_id": "pairing_a"}),
    # Refused: pairing A has an activity.
    Rule("pairings.delete", "POST", STAFF, params={"pairing_id": "pairing_a"},
         data={"version": "0"}),
    Rule("pairings.activity_new", "GET", OWN_A, params={"pairing_id": "pairing_a"}),
    Rule("pairings.activity_new", "POST", OWN_A, params={"pairing_id": "pairing_a"},
         data={"title": ""}),
    Rule("pairings.activity_edit", "GET", OWN_A, params={"activity_id": "activity_a"}),
    Rule("pairings.activity_edit", "POST", OWN_A, params={"activity_id": "activity_a"},
         data={"title": "", "version": "0"}),
    Rule("pairings.activity_delete", "GET", OWN_A, params={"activity_id": "activity_a"}),
    # A stale version: the delete is refused (409) and activity A stays.
    Rule("pairings.activity_delete", "POST", OWN_A, params={"activity_id": "activity_a"},
         data={"version": "0"}),
]
