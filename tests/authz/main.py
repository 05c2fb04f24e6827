"""Site-wide routes."""

from . import EVERYONE, SIGNED_IN, Rule

RULES = [
    Rule("main.home", "GET", SIGNED_IN),
    Rule("i18n.set_language", "POST", EVERYONE, data={"lang": "en"}),
    Rule("health", "GET", EVERYONE),
    Rule("assets.plotly_js", "GET", EVERYONE, params={"version": "0"}),
    Rule("auth.login", "GET", EVERYONE),
    Rule("auth.logout", "POST", SIGNED_IN),
]
