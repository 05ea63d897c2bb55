"""Turn the database URL an operator writes into the one SQLAlchemy needs."""

from __future__ import annotations

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError


def normalize_database_url(url: str) -> str:
    """Accept ``postgresql://user@host:port/db`` (libpq style) and pick the psycopg 3 driver.

    SQLite URLs pass through. Anything else is refused: Hygie is tested on these two only.
    """
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise ValueError(f"HYGIE_DATABASE_URL is not a database URL: {_redact(url)!r}") from None
    backend = parsed.get_backend_name()
    if backend in {"postgresql", "postgres"}:
        parsed = parsed.set(drivername="postgresql+psycopg")
    elif backend != "sqlite":
        raise ValueError(
            f"HYGIE_DATABASE_URL must be a postgresql:// or sqlite:// URL, got {backend}://"
        )
    return parsed.render_as_string(hide_password=False)


def _redact(url: str) -> str:
    """Never echo a password back in an error message or a log."""
    if "@" in url and "://" in url:
        scheme, rest = url.split("://", 1)
        return f"{scheme}://***@{rest.rsplit('@', 1)[1]}"
    return url
