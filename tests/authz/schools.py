"""Local schools: everyone signed in reads; staff and admins write; a principal edits the
contact details of their own school only."""

from . import OWN_SCHOOL_A, SIGNED_IN, STAFF, Rule

SCHOOL_A = {"school_id": "school_a"}

RULES = [
    Rule("schools.index", "GET", SIGNED_IN),
    Rule("schools.detail", "GET", SIGNED_IN, params=SCHOOL_A),
    Rule("schools.new", "GET", STAFF),
    # Invalid data: the form is re-rendered with errors, nothing is created.
    Rule("schools.new", "POST", STAFF, data={"code": "1"}),
    Rule("schools.edit", "GET", OWN_SCHOOL_A, params=SCHOOL_A),
    # No version: refused as stale, nothing changes.
    Rule("schools.edit", "POST", OWN_SCHOOL_A, params=SCHOOL_A, data={"phone": "02-1234"}),
    Rule("schools.delete", "GET", STAFF, params=SCHOOL_A),
    # School A has a pairing: the delete is refused with an explanation.
    Rule("schools.delete", "POST", STAFF, params=SCHOOL_A, data={}),
]
