"""Sign-in pages, own password, user administration and the audit trail."""

from . import ADMIN, EVERYONE, SIGNED_IN, STAFF, Rule

_NEW_USER = {"email": "matrix-new@example.org", "name": "Matrix New", "role": "staff",
             "active": "y", "password": "temporary-secret-42"}
_TEMP_PASSWORD = {"password": "temporary-secret-42"}

RULES = [
    Rule("auth.login", "POST", EVERYONE,
         data={"email": "nobody@example.org", "password": "not-the-password"}),
    Rule("auth.change_password", "GET", SIGNED_IN),
    # An empty submission: re-rendered with errors, nothing changes.
    Rule("auth.change_password", "POST", SIGNED_IN, data={}),
    Rule("users.index", "GET", ADMIN),
    Rule("users.create", "GET", ADMIN),
    Rule("users.create", "POST", ADMIN, data=_NEW_USER),
    Rule("users.detail", "GET", ADMIN, params={"user_id": "user_official"}),
    Rule("users.edit", "GET", ADMIN, params={"user_id": "user_official"}),
    Rule("users.edit", "POST", ADMIN, params={"user_id": "user_official"},
         data={"email": "renamed@example.org", "name": "Renamed", "role": "official",
               "active": "y", "version": "1"}),
    Rule("users.deactivate", "GET", ADMIN, params={"user_id": "user_official"}),
    Rule("users.deactivate", "POST", ADMIN, params={"user_id": "user_official"},
         data={"version": "1"}),
    Rule("users.reactivate", "GET", ADMIN, params={"user_id": "user_official"}),
    Rule("users.reactivate", "POST", ADMIN, params={"user_id": "user_official"},
         data={"version": "1"}),
    Rule("users.reset_password", "GET", ADMIN, params={"user_id": "user_official"}),
    Rule("users.reset_password", "POST", ADMIN, params={"user_id": "user_official"},
         data={**_TEMP_PASSWORD, "version": "1"}),
    Rule("audit.index", "GET", STAFF),
]
