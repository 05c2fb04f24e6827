"""Import and export: staff import; every signed-in role exports lists; only staff export all."""

from . import SIGNED_IN, STAFF, Rule

RULES = [
    Rule("imports.index", "GET", STAFF),
    Rule("imports.upload", "POST", STAFF, data={"kind": "schools"}),
    Rule("imports.preview", "GET", STAFF, params={"token": "x" * 32}),
    Rule("imports.confirm", "POST", STAFF, data={"token": "x" * 32}),
    Rule("imports.template", "GET", STAFF, params={"kind": "schools"}),
    Rule("imports.export_list", "GET", SIGNED_IN, params={"kind": "schools"},
         query={"format": "csv"}),
    Rule("imports.export_all", "GET", STAFF),
]
