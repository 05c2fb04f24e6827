"""The 2030 progress dashboard and each school's status page."""
