"""Entry point: ``flask --app app run`` or ``gunicorn app:app``."""

from pairing import create_app, freeze_startup_objects

app = create_app()
freeze_startup_objects()
