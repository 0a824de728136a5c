"""Database URLs for the tests that hand one to a process, as a deployment would."""

from __future__ import annotations

from urllib.parse import quote


def url_with_schema(url: str, schema: str) -> str:
    """``url`` choosing PostgreSQL schema ``schema`` (libpq's ``options=-csearch_path=``)."""
    separator = "&" if "?" in url else "?"
    return f"{url}{separator}options={quote(f'-csearch_path={schema}')}"
