"""How ?q= finds rows through the search index, with the count of a large match capped at CAP.

A term of MIN_SUBSTRING (3) or more characters matches anywhere in the text, ignoring case, with
% _ \\ and quotes matching themselves. SQLite finds the candidates in the FTS5 trigram index
(a phrase query: the term's trigrams, next to each other); PostgreSQL's planner uses the GIN trigram
indexes for ILIKE. Either way the exact ILIKE condition is applied to the candidates as well, so
the rows are the ones a plain ILIKE scan would give (FTS5 also folds non-ASCII case).

Shorter terms are bounded differently, as trigrams cannot find them: they match the START of the
text (a username or email starting with "ab", a title starting with "ab"), which is a range of the
lower() index that every searched column has, never a scan of the table.

Rare, none and common terms all stay fast because the count comes first, capped: at most CAP + 1
matching ids are read, driven by the index. At CAP or fewer, the page is read by those ids
(`id IN (...)`) and sorted: a few hundred rows. Above CAP the term is common, and the page is read
by walking the sort key's index and testing each row, which finds a page of dense matches at once;
an IN list there would fetch every match (a million rowids for "user") to show twenty.
"""

import sys
from functools import cached_property

from sqlalchemy import and_, column, func, literal_column, or_, select, table, union_all
from sqlalchemy.exc import OperationalError

from .. import counters
from ..extensions import db
from ..listing import like_pattern
from . import budget, index, trigrams

CAP = 1000  # a match counted in full up to here; beyond, "1000+"
MIN_SUBSTRING = 3  # the trigram index needs 3 characters; shorter terms match the start
# The code point after U+D7FF that a string may hold: surrogates cannot be encoded.
NEXT_CODE_POINT = {0xD7FF: 0xE000}
ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")


class Search:
    """The rows of model whose columns match term (and the scope filters, e.g. one author's posts)."""

    def __init__(self, term, model, columns, scope=()):
        self.term, self.model, self.scope = term, model, list(scope)
        self.columns = [getattr(model, name) for name in columns]
        self.names = columns
        self.prefix = len(term) < MIN_SUBSTRING
        self.dialect = db.session.get_bind().dialect.name
        # On SQLite the FTS index finds the candidates. Not within a scope: one author's posts are
        # few, and the author index finds them faster than the whole title index could.
        self.fts = (
            index.FTS_TABLES[model.__tablename__][0]
            if self.dialect == "sqlite" and not self.prefix and not self.scope
            else None
        )

    def condition(self, walk=False):
        """The exact test of one row, true for exactly the rows that match.

        walk=True: the same test in a form no index can serve, so that the planner walks the sort
        key's index and tests each row (the plan for a common term) instead of reading every
        match through the search index and sorting them all.
        """
        if self.prefix:
            return or_(*(self._starts_with(c, walk) for c in self.columns))
        pattern = like_pattern(self.term)
        if walk:
            # lower(col) LIKE lower(term) is ILIKE (PostgreSQL's ILIKE lowers both sides in a
            # UTF8 database; SQLite's is this very expression), in the form the sort index holds:
            # lower(col), so a row of that index is tested without reading the table, and no
            # trigram index (on col) is used. A walk past 700,000 titles: 50 ms, not 800.
            return or_(*(func.lower(c).like(func.lower(pattern), escape="\\") for c in self.columns))
        return or_(*(self._contains(c, pattern) for c in self.columns))

    def _contains(self, col, pattern):
        """col ILIKE pattern, with PostgreSQL's trigram index asked only for the term's selective
        part (trigrams.py): a row containing the term contains the part, and is then tested whole."""
        if self.dialect != "postgresql":
            return col.ilike(pattern, escape="\\")
        part = trigrams.selective_part(self.term, trigrams.common_trigrams(col))
        if part == self.term:
            return col.ilike(pattern, escape="\\")
        return and_(col.ilike(like_pattern(part), escape="\\"), col.concat("").ilike(pattern, escape="\\"))

    def _starts_with(self, col, walk):
        # A range of lower(col), which its index holds in order. SQLite's lower() folds ASCII only.
        low = self.term.translate(ASCII_LOWER) if self.dialect == "sqlite" else self.term.lower()
        key = func.lower(col)
        # The LIKE test alone is exact; the range in front of it is what an index can find.
        starts = key.startswith(low, autoescape=True)
        if walk:
            return starts
        following = NEXT_CODE_POINT.get(ord(low[-1]), ord(low[-1]) + 1)
        if following > sys.maxunicode:  # nothing sorts after it: the range is open above
            return and_(key >= low, starts)
        return and_(key >= low, key < low[:-1] + chr(following), starts)

    def _match(self):
        """The FTS5 query: the term as one quoted phrase (quotes doubled) in the searched columns."""
        phrase = '"' + self.term.replace('"', '""') + '"'
        return literal_column(self.fts).op("MATCH")(f"{{{' '.join(self.names)}}} : {phrase}")

    def _indexed_ids(self):
        """A SELECT of the ids of every match, found through an index."""
        if self.fts:
            return select(table(self.fts, column("rowid")).c.rowid).where(self._match())
        return select(self.model.id).where(self.condition(), *self.scope)

    @cached_property
    def _found(self):
        """The ids of the matches, CAP + 1 at most, found through the index (no table scan): they
        give the count, and a page of a rare term is read by them, so the index is searched once."""
        if self.fts:
            fts = table(self.fts, column("rowid"))
            stmt = (
                select(self.model.id)
                .select_from(fts)
                .join(self.model, self.model.id == fts.c.rowid)
                .where(self._match(), self.condition())
            )
        else:
            stmt = select(self.model.id).where(self.condition(), *self.scope)
        return db.session.scalars(stmt.limit(CAP + 1)).all()

    @property
    def capped(self):
        """More than CAP rows match: the total shown is "CAP+", a lower bound."""
        return len(self._found) > CAP

    @property
    def total(self):
        return min(len(self._found), CAP)

    def filters(self, walk=None):
        """WHERE clauses selecting the matches, shaped for the plan that suits their number:
        the ids found when they are CAP or fewer; else a walk of the sort key's index testing each
        row (walk=True); walk=False, the matches read through the search index again (SQLite: the
        FTS ids, in SQL; PostgreSQL: the plain condition, run with index walks off)."""
        if walk is None and not self.capped:
            return [self.model.id.in_(self._found)]
        if walk is None or walk:
            # Common: walk the sort key's index and test each row (see the module's docstring).
            return [*self.scope, self.condition(walk=True)]
        if self.dialect != "sqlite":
            return [*self.scope, self.condition()]
        return [*self.scope, self.condition(), self.model.id.in_(self._indexed_ids())]

    def rows(self, read):
        """read(filters) for the page's rows, by the plan that suits the number of matches.

        A common term's matches can still lie far along the sort order (1000+ matches at the end
        of a million rows: "user9" by username; "gardening" in titles sorted by title). So:
        1. a quick walk of the sort index (QUICK_WALK_MS), which finds dense, near matches;
        2. then the cost of reading every match through the search index is estimated from a
           sample (estimated_ms). Under READ_MATCHES_MS they are read at once. Over it, a walk
           gets as long as reading them would take (at most LONG_WALK_MS): a walked row costs a
           tenth of a match read, so a walk that long passes many more rows than there are
           matches. Within a scope, where there is no estimate, the walk gets SCOPED_WALK_MS;
        3. the page read from the search index: SQLite, the FTS ids in SQL; PostgreSQL, the trigram
           index's bitmap, bounded too (INDEX_MS: a dense term's walk may have run out of time only
           because the machine is busy, and its million matches would take seconds to sort), and
           past that the walk without a bound.
        """
        if not self.capped:
            return read(self.filters())
        walks = [QUICK_WALK_MS[self.dialect]]
        for ms in walks:
            rows = self._within(self._walk_budget(ms), read, walk=True)
            if rows is not None:
                return rows
            if len(walks) == 1:
                cost = self.estimated_ms()
                if cost is None:
                    walks.append(SCOPED_WALK_MS[self.dialect])
                elif cost >= READ_MATCHES_MS:
                    walks.append(min(cost, LONG_WALK_MS))
        if self.dialect == "sqlite":
            return read(self.filters(walk=False))
        rows = self._within(budget.index_plan(INDEX_MS), read, walk=False)
        return rows if rows is not None else read(self.filters(walk=True))

    def _within(self, bound, read, walk):
        """read(filters) by that plan within bound; None when the bound ended it first."""
        try:
            with bound:
                return read(self.filters(walk=walk))
        except OperationalError as error:
            if not budget.interrupted(error):
                raise
        return None

    def _walk_budget(self, ms):
        return budget.time_budget(ms) if self.dialect == "sqlite" else budget.walk_budget(ms)

    def estimated_ms(self):
        """About how long reading every match through the search index would take (None: unknown)."""
        matches = self.estimated_matches()
        return None if matches is None else matches * MATCH_US[self.dialect, self.model.__tablename__] / 1000

    def estimated_matches(self):
        """About how many rows match: the share that match in SAMPLE_WINDOWS runs of SAMPLE_IDS ids
        spread evenly over the table, times its rows, and more than CAP (this is a common term).
        None within a scope (one author's posts), or without rows.

        A few thousand rows read by primary key (1-3 ms). Matches bunched in one part of the ids
        can be missed or over-counted; that costs time, never rows.
        """
        if self.scope:
            return None
        model = self.model
        # Two subqueries: SQLite reads min() or max() from an index end only when alone.
        low, high = db.session.execute(
            select(select(func.min(model.id)).scalar_subquery(), select(func.max(model.id)).scalar_subquery())
        ).one()
        if low is None:
            return None
        step = max(SAMPLE_IDS, (high - low + 1) // SAMPLE_WINDOWS)
        # One SELECT per window, so each is a range of the primary key (an OR of ranges can be
        # planned as a scan of the table).
        tested = self.condition(walk=True).label("matched")
        windows = union_all(
            *(
                select(tested).where(model.id.between(start, start + SAMPLE_IDS - 1))
                for start in range(low + (step - SAMPLE_IDS) // 2, high + 1, step)
            )
        ).subquery()
        sampled, matched = db.session.execute(
            select(func.count(), func.count().filter(windows.c.matched))
        ).one()
        if not sampled:
            return None
        return max(CAP + 1, matched * counters.total(model.__tablename__) // sampled)


# Walks of the sort index. SQLite tests some 20,000 index rows a millisecond, PostgreSQL about
# 12,000 (an index-only walk; fewer where the row must be read); a common term's dense matches come
# within a few hundred rows, and a rare term never gets here (it is counted first).
QUICK_WALK_MS = {"sqlite": 2, "postgresql": 10}
SCOPED_WALK_MS = {"sqlite": 10, "postgresql": 25}  # one author's posts: no estimate of the matches
LONG_WALK_MS = 300  # the longest walk when the matches are many: 3-6 million index rows
# Reading every match through the search index and sorting them, per match, measured at a million
# users and 3M posts (user9: 111,000 matches, 44 ms on SQLite, 66 ms on PostgreSQL; gardening:
# 300,000 matches, 450 ms and 900 ms): posts' matches are joined to their author as well.
MATCH_US = {
    ("sqlite", "users"): 0.4,
    ("sqlite", "posts"): 1.5,
    ("postgresql", "users"): 0.7,
    ("postgresql", "posts"): 3.0,
}
READ_MATCHES_MS = 100  # estimated to take less: read the matches rather than walk again
INDEX_MS = 1000  # PostgreSQL: the index's plan for the page (matches: 100,000 100-200 ms, 300,000 0.8 s)
SAMPLE_WINDOWS = 16
SAMPLE_IDS = 256
