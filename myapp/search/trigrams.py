"""Which part of a search term PostgreSQL's trigram index should look up (match.py).

A GIN trigram index answers ILIKE '%term%' by intersecting the posting lists of the term's
trigrams. A trigram that most rows contain ("use" and "ser" in a million user<N> names) filters
out nothing, yet costs the most to intersect: the rarest trigram's candidates are checked against
its whole posting tree, page after page (user123456 read 1,200 index pages, 25-40 ms; the same
search by "123456" alone reads 27, under 3 ms).

So the index is asked for the longest part of the term made only of trigrams that are not common,
and the whole term is then tested on each row found: every row containing the term contains the
part, so the rows are exactly the same. Which trigrams are common is read from a small sample of
the table, kept for a while per process; a stale or odd sample can only cost time, never rows.
"""

import time

from sqlalchemy import text

from ..extensions import db

SAMPLE_ROWS = 1_000  # rows sampled to find the common trigrams: some 15 pages
SMALL_TABLE = 50_000  # below this many rows every posting list is short: nothing is common
COMMON_SHARE = 0.05  # a trigram in more of the sampled rows than this is common
KEEP_SECONDS = 3600  # how long a process keeps a table's common trigrams
_kept = {}  # (database url, table, column) -> (monotonic time it expires, frozenset of trigrams)


def common_trigrams(column):
    """The trigrams (lowercase) found in more than COMMON_SHARE of column's rows, from a sample."""
    session = db.session
    key = (str(session.get_bind().url), column.table.name, column.name)
    kept = _kept.get(key)
    now = time.monotonic()
    if kept and kept[0] > now:
        return kept[1]
    table, name = column.table.name, column.name  # identifiers from the models, never from input
    rows = session.execute(text(f"SELECT reltuples FROM pg_class WHERE oid = '{table}'::regclass")).scalar()
    common = frozenset()
    if rows and rows >= SMALL_TABLE:
        # Whole pages (TABLESAMPLE SYSTEM), so a few reads: their runs of neighbouring rows
        # (user120001 to user120070) make some rare trigrams look common, which costs only time.
        found = session.execute(
            text(
                f"WITH sample AS (SELECT show_trgm({name}) AS trigrams"
                f" FROM {table} TABLESAMPLE SYSTEM (:percent))"
                " SELECT t FROM sample, unnest(sample.trigrams) AS t GROUP BY t"
                " HAVING count(*) > :share * (SELECT count(*) FROM sample)"
            ),
            {"percent": min(100.0, 100.0 * SAMPLE_ROWS / rows), "share": COMMON_SHARE},
        )
        common = frozenset(found.scalars())
    _kept[key] = (now + KEEP_SECONDS, common)
    return common


def selective_part(term, common):
    """The longest part of term whose trigrams (3 letters or digits in a row, lowercased) are all
    uncommon; term itself when there is none (every trigram common: the index reads them all)."""
    lowered = term.lower()
    best, start = None, None
    for i in range(len(term) - 2):
        window = lowered[i : i + 3]
        if window.isalnum() and window not in common:
            start = i if start is None else start
            if best is None or i + 3 - start > best[1] - best[0]:
                best = (start, i + 3)
        else:
            start = None
    return term if best is None else term[best[0] : best[1]]
