"""Column types shared by the models."""

from datetime import UTC, datetime

from sqlalchemy import BigInteger, DateTime, Integer
from sqlalchemy.types import TypeDecorator

# Row ids: 64-bit everywhere. On SQLite, INTEGER PRIMARY KEY is already the 64-bit rowid (and only
# that exact type name makes it one); on PostgreSQL a plain INTEGER would stop at 2^31.
RowId = BigInteger().with_variant(Integer(), "sqlite")


def now_utc():
    """The default for timestamp columns: called per row at write time, never at import."""
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator):
    """Timezone-aware UTC datetimes on every database.

    SQLite stores datetimes without an offset and PostgreSQL converts to the session's zone;
    this stores UTC and always hands back an aware UTC value, so templates and JSON agree.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is not None:
            if value.tzinfo is None:
                raise ValueError("naive datetime given; use an aware UTC datetime")
            value = value.astimezone(UTC)
            if dialect.name == "sqlite":
                value = value.replace(tzinfo=None)
        return value

    def process_result_value(self, value, dialect):
        if value is not None:
            value = value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
        return value
