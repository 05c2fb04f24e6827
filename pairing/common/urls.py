"""URL helpers."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import request


def safe_next(target: str | None) -> str | None:
    """Only same-site relative paths: never redirect to another host after sign-in."""
    if not target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    return target


def args_without(*names: str, **overrides) -> dict:
    """The current query string as a dict, minus ``names``, plus ``overrides``.

    Used by pagination and sort links so that filters survive.
    """
    args = {k: v for k, v in request.args.items(multi=False) if k not in names}
    args.update({k: v for k, v in overrides.items() if v is not None})
    return args
