"""The dashboard: every signed-in role reads it (anonymous only with PUBLIC_DASHBOARD, off by
default); the goal settings are admin-only."""

from . import ADMIN, SIGNED_IN, Rule

RULES = [
    Rule("dashboard.index", "GET", SIGNED_IN),
    Rule("dashboard.chart_csv", "GET", SIGNED_IN, params={"chart_id": "districts"}),
    Rule("dashboard.settings", "GET", ADMIN),
    Rule("dashboard.settings", "POST", ADMIN,
         data={"target_date": "2030-12-31", "target_share": "100",
               "baseline_date": "2023-04-01", "dormancy_months": "12"}),
]
