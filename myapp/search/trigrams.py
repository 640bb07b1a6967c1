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
from . import index

SAMPLE_ROWS = 1_000  # rows sampled to find the common trigrams: some 15 pages
SMALL_TABLE = 50_000  # below this many rows every posting list is short: nothing is common
COMMON_SHARE = 0.05  # a trigram in more of the sampled rows than this is common
KEEP_SECONDS = 3600  # how long a process keeps a table's common trigrams
_kept = {}  # (database url, table) -> (monotonic time it expires, {column: frozenset of trigrams})


def common_trigrams(column):
    """The trigrams (lowercase) found in more than COMMON_SHARE of column's rows, from a sample."""
    session = db.session
    table = column.table.name
    key = (str(session.get_bind().url), table)
    kept = _kept.get(key)
    now = time.monotonic()
    if not kept or kept[0] <= now:
        kept = _kept[key] = (now + KEEP_SECONDS, _sample(session, table))
    return kept[1].get(column.name, frozenset())


def _sample(session, table):
    """{column: its common trigrams} for every trigram-indexed column of table, in one sample."""
    # Identifiers from index.py's list, never from input.
    names = [name for _index, indexed, name in index.TRIGRAM_INDEXES if indexed == table]
    rows = session.execute(text(f"SELECT reltuples FROM pg_class WHERE oid = '{table}'::regclass")).scalar()
    if not rows or rows < SMALL_TABLE:
        return {}
    # Whole pages (TABLESAMPLE SYSTEM), so a few reads: their runs of neighbouring rows
    # (user120001 to user120070) make some rare trigrams look common, which costs only time.
    columns = ", ".join(f"show_trgm({name}) AS {name}" for name in names)
    unnested = " UNION ALL ".join(f"SELECT '{name}' AS c, unnest({name}) AS t FROM sample" for name in names)
    found = session.execute(
        text(
            f"WITH sample AS MATERIALIZED (SELECT {columns} FROM {table} TABLESAMPLE SYSTEM (:percent))"
            f" SELECT c, t FROM ({unnested}) AS trigrams GROUP BY c, t"
            " HAVING count(*) > :share * (SELECT count(*) FROM sample)"
        ),
        {"percent": min(100.0, 100.0 * SAMPLE_ROWS / rows), "share": COMMON_SHARE},
    )
    common = {name: set() for name in names}
    for name, trigram in found:
        common[name].add(trigram)
    return {name: frozenset(trigrams) for name, trigrams in common.items()}


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
