"""Search, sort and paginate list pages with one query for the rows (plus one count)."""

from __future__ import annotations

from flask import current_app, request
from flask_sqlalchemy.pagination import SelectPagination
from sqlalchemy import Select, or_

from ..extensions import db


def search_clause(term: str | None, *columns):
    """Case-insensitive substring match on any of ``columns``; None when there is no term."""
    term = (term or "").strip()
    if not term:
        return None
    escaped = term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    pattern = f"%{escaped}%"
    return or_(*(col.ilike(pattern, escape="\\") for col in columns))


def apply_sort(stmt: Select, allowed: dict, default: str) -> Select:
    """Sort by ``?sort=key`` or ``?sort=-key`` when key is in ``allowed`` (key -> column(s))."""
    key = request.args.get("sort") or default
    desc = key.startswith("-")
    cols = allowed.get(key.lstrip("-")) or allowed[default.lstrip("-")]
    if not isinstance(cols, list | tuple):
        cols = (cols,)
    return stmt.order_by(*[(c.desc() if desc else c.asc()) for c in cols])


def paginate(stmt: Select, per_page: int | None = None):
    """Flask-SQLAlchemy pagination with the page from ``?page=`` (bad values mean page 1)."""
    return db.paginate(stmt, per_page=per_page or current_app.config["PER_PAGE"],
                       max_per_page=200, error_out=False)



class RowPagination(SelectPagination):
    """Pagination whose items are whole rows: an entity plus computed columns."""

    def _query_items(self):
        select = self._query_args["select"].limit(self.per_page).offset(self._query_offset)
        return list(self._query_args["session"].execute(select).all())


def paginate_rows(stmt: Select, per_page: int | None = None) -> RowPagination:
    """Like ``paginate`` but the items are rows such as ``(School, paired)``, for lists that
    aggregate in SQL instead of per row."""
    return RowPagination(select=stmt, session=db.session(),
                         per_page=per_page or current_app.config["PER_PAGE"],
                         max_per_page=200, error_out=False)
