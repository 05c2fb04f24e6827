"""Response hardening and error pages."""

from __future__ import annotations

from flask import Flask, render_template, request
from flask_babel import gettext as _

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
    "font-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'self'; "
    "form-action 'self'; frame-ancestors 'none'"
)


def security_headers(response):
    response.headers.setdefault("Content-Security-Policy", CSP)
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("X-Frame-Options", "DENY")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    if request.is_secure:
        response.headers.setdefault("Strict-Transport-Security", "max-age=31536000")
    if request.endpoint not in ("static", "bootstrap.static", "assets.plotly_js"):
        response.headers.setdefault("Cache-Control", "no-store")
    return response


STATIC_ENDPOINTS = ("static", "bootstrap.static")


def materialize_static(response):
    """Read small static files into memory so that Flask-Compress compresses them.

    Flask streams static files; with COMPRESS_STREAMS off, Flask-Compress leaves streamed
    responses alone (its streaming path can leave the file open). These files are small and
    cached by the browser, so reading them whole costs little.
    """
    if (request.endpoint in STATIC_ENDPOINTS and response.status_code == 200
            and response.direct_passthrough
            and (response.content_length or 0) < 2_000_000):
        response.direct_passthrough = False
        response.get_data()
    return response


def register_error_pages(app: Flask) -> None:
    def render(code: int, title: str, message: str):
        return render_template("errors/error.html", code=code, title=title,
                               message=message), code

    @app.errorhandler(400)
    def bad_request(e):
        return render(400, _("Bad request"),
                      _("The request could not be understood. Please go back and try again."))

    @app.errorhandler(403)
    def forbidden(e):
        return render(403, _("Not allowed"),
                      _("Your account does not have permission to open this page."))

    @app.errorhandler(404)
    def not_found(e):
        return render(404, _("Page not found"),
                      _("There is no page at this address. Check the link or use the menu."))

    @app.errorhandler(405)
    def method_not_allowed(e):
        return render(405, _("Not allowed"), _("This action cannot be done this way."))

    @app.errorhandler(413)
    def too_large(e):
        return render(413, _("File too large"),
                      _("The file is larger than the upload limit."))

    @app.errorhandler(429)
    def too_many(e):
        return render(429, _("Too many attempts"),
                      _("Too many attempts. Please wait a few minutes and try again."))

    @app.errorhandler(500)
    def server_error(e):
        from ..extensions import db

        db.session.rollback()
        return render(500, _("Something went wrong"),
                      _("An unexpected error occurred. Nothing was saved. Please try again; "
                        "if it happens again, tell the system administrator."))
