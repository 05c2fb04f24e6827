"""Partner schools and partner cities: everyone signed in reads; staff and admins write."""

from . import SIGNED_IN, STAFF, Rule

PARTNER = {"partner_id": "partner_school"}
CITY = {"city_id": "partner_city"}

RULES = [
    Rule("partners.index", "GET", SIGNED_IN),
    Rule("partners.detail", "GET", SIGNED_IN, params=PARTNER),
    Rule("partners.new", "GET", STAFF),
    Rule("partners.new", "POST", STAFF, data={"name": ""}),
    Rule("partners.edit", "GET", STAFF, params=PARTNER),
    Rule("partners.edit", "POST", STAFF, params=PARTNER, data={"name": ""}),
    # The partner school has pairings: the delete is refused with an explanation.
    Rule("partners.delete", "GET", STAFF, params=PARTNER),
    Rule("partners.delete", "POST", STAFF, params=PARTNER, data={}),
    Rule("partners.cities", "GET", SIGNED_IN),
    Rule("partners.city_detail", "GET", SIGNED_IN, params=CITY),
    Rule("partners.city_new", "GET", STAFF),
    Rule("partners.city_new", "POST", STAFF, data={"name": ""}),
    Rule("partners.city_edit", "GET", STAFF, params=CITY),
    Rule("partners.city_edit", "POST", STAFF, params=CITY, data={"name": ""}),
    # A partner school sits under the city: the delete is refused with an explanation.
    Rule("partners.city_delete", "GET", STAFF, params=CITY),
    Rule("partners.city_delete", "POST", STAFF, params=CITY, data={}),
]
