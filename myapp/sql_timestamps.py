"""iso_utc(column): a timestamp as ISO 8601 text in UTC, formatted by the database itself.

The CSV exports write millions of timestamps; turning each into a datetime (myapp/types.py
UTCDateTime) and back into text took about half of an export's time in Python. The database
writes the same text as datetime.isoformat() of the UTC value: '2026-01-31T12:34:56+00:00',
with '.ffffff' only when there are microseconds.
"""

from sqlalchemy import String
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement


class IsoUtc(FunctionElement):
    type = String()
    name = "iso_utc"
    inherit_cache = True


def iso_utc(column):
    return IsoUtc(column)


@compiles(IsoUtc, "sqlite")
def _sqlite(element, compiler, **kw):
    # Stored as UTC text 'YYYY-MM-DD HH:MM:SS.ffffff' (SQLAlchemy's SQLite DATETIME), where the one
    # space and the one '.' are always at the same places. Two replace() calls cost less than
    # slicing it with substr(): a 3M-post export took 0.4 s less.
    x = compiler.process(element.clauses, **kw)
    return f"(replace(replace({x}, ' ', 'T'), '.000000', '') || '+00:00')"


@compiles(IsoUtc, "postgresql")
def _postgresql(element, compiler, **kw):
    # timestamptz: read in UTC whatever the session's time zone.
    x = f"({compiler.process(element.clauses, **kw)} AT TIME ZONE 'UTC')"
    fraction = f"CASE WHEN to_char({x}, 'US') = '000000' THEN '' ELSE '.' || to_char({x}, 'US') END"
    return f"""(to_char({x}, 'YYYY-MM-DD"T"HH24:MI:SS') || {fraction} || '+00:00')"""
