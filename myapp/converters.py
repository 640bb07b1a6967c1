"""URL converters."""

from werkzeug.exceptions import NotFound
from werkzeug.routing import BaseConverter

# Ids are 64-bit (BIGINT on PostgreSQL, the rowid on SQLite). A larger id cannot exist, and the
# drivers refuse to even bind one (a 500), so it is a 404 before any query.
MAX_ID = 2**63 - 1


class IdConverter(BaseConverter):
    """A row id: 1 to MAX_ID. Anything else (huge, zero, not a number) is a 404, not a 500.

    Zero, leading zeros and more than 19 digits do not match at all. A 19-digit number past
    MAX_ID raises NotFound itself: a converter's ValidationError would let werkzeug answer
    405 for a DELETE whose path only the GET rule matched.
    """

    regex = r"[1-9][0-9]{0,18}"
    weight = 50
    part_isolating = True

    def to_python(self, value):
        number = int(value)
        if number > MAX_ID:
            raise NotFound()
        return number

    def to_url(self, value):
        return str(int(value))
