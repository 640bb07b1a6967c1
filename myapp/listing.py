"""Query-string parameters of the list pages (page, per_page, sort, q) and the page they select.

Deep pages stay fast two ways. The Previous/Next links carry the id of the row at the page's
edge (`after=` / `before=`), and the next page seeks to it through the index of the sort key
instead of counting past every row before it. A typed `?page=N` of a whole list in its default
sort finds its first row through counts per prefix of the sort key (myapp/page_counts.py); in
other sorts and in filtered lists its OFFSET runs over ids alone, which the sort key's index holds,
and only the page's own rows are read.
"""

import math
from dataclasses import dataclass

from flask import current_app, request

from . import page_counts
from .converters import MAX_ID
from .extensions import db
from .rules import CONTROL_CHARS


@dataclass(frozen=True)
class ListArgs:
    page: int
    per_page: int
    sort: str
    q: str
    default_sort: str = ""
    default_per_page: int = 0
    # The id of the row just before (after=) or just after (before=) this page, from its links.
    after: int | None = None
    before: int | None = None

    @property
    def offset(self):
        return (self.page - 1) * self.per_page

    def query(self, **changes):
        """Query-string values for a link to this list with some changed, defaults left out."""
        values = {"q": self.q, "sort": self.sort, "per_page": self.per_page, "page": self.page, **changes}
        defaults = {"q": "", "sort": self.default_sort, "per_page": self.default_per_page, "page": 1}
        defaults.update(after=None, before=None)
        return {key: value for key, value in values.items() if value != defaults.get(key)}


def _positive_int(raw, default, maximum=None):
    """A malformed, zero or negative value falls back to the default instead of an error."""
    try:
        value = int(raw)
    except (TypeError, ValueError):
        return default
    if value < 1:
        return default
    return min(value, maximum) if maximum else value


def _cursor(raw):
    """A row id from a Previous/Next link; anything that cannot be one is ignored."""
    value = _positive_int(raw, None)
    return value if value is not None and value <= MAX_ID else None  # a cursor is a row id


def parse_list_args(args, sorts, default_sort):
    """Read page, per_page, sort and q from request args; odd values fall back to defaults."""
    config = current_app.config
    sort = args.get("sort", default_sort)
    return ListArgs(
        # Capped so that page * per_page stays a sane OFFSET on every database.
        page=_positive_int(args.get("page"), 1, maximum=10**9),
        per_page=_positive_int(args.get("per_page"), config["PER_PAGE"], maximum=config["MAX_PER_PAGE"]),
        sort=sort if sort in sorts else default_sort,
        # No stored value holds a control character, and PostgreSQL refuses NUL in any string.
        q=CONTROL_CHARS.sub("", args.get("q", "")).strip()[:100],
        default_sort=default_sort,
        default_per_page=config["PER_PAGE"],
        after=_cursor(args.get("after")),
        before=_cursor(args.get("before")),
    )


def prefers_json():
    """True when the client ranks application/json above text/html (browsers never do)."""
    accept = request.accept_mimetypes
    return accept["application/json"] > accept["text/html"]


def like_pattern(q):
    """A LIKE pattern matching q as a plain substring (% and _ in q match themselves)."""
    escaped = q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def order_by(sorts, sort):
    """ORDER BY columns for a sort key such as 'username' or '-created'."""
    columns = sorts[sort.removeprefix("-")]
    if sort.startswith("-"):
        return [column.desc() for column in columns]
    return list(columns)


def sort_choices(names):
    """Every accepted value of ?sort=: each name, ascending and descending."""
    return {name for name in names} | {f"-{name}" for name in names}


def page_rows(stmt, id_column, sorts, args, anchor, offset_stmt=None, exact_total=None, trie=None):
    """The rows of stmt on the page args select: seek from a cursor, else OFFSET over ids.

    anchor(columns, id) is a SELECT of the sort key of the row with that id; it runs inside the
    page's own query, so a cursor costs no extra round trip. Sorts end with the id: keys are unique.
    For a typed page (offset_ids): offset_stmt, when given, selects the same rows as stmt from
    fewer tables (posts without their authors), and exact_total is the number of rows stmt
    selects when it is known exactly (a kept count; never a capped or estimated one). trie, for
    a whole list (no filter), names its counts per key prefix (myapp/page_counts.py): a typed page
    in the sort they serve is found through them instead of an OFFSET over the rows before it.
    """
    columns = sorts[args.sort.removeprefix("-")]
    descending = args.sort.startswith("-")
    anchor_id = args.after or args.before
    if anchor_id:
        backwards = args.after is None  # a Previous link: read back from the anchor, then flip
        downwards = descending != backwards
        key = anchor(columns, anchor_id).correlate(None)
        values = [key.with_only_columns(column).scalar_subquery() for column in columns]
        order = [column.desc() for column in columns] if downwards else columns
        rows = seek_rows(stmt, columns, values, downwards, order, args.per_page)
        if rows:
            return rows[::-1] if backwards else rows
        # Nothing beyond the anchor: it was deleted (or is the last row); the page number decides.
    order = order_by(sorts, args.sort)
    if args.offset == 0:
        return db.session.execute(stmt.order_by(*order).limit(args.per_page)).all()
    ids_from = stmt if offset_stmt is None else offset_stmt
    ids = False
    if trie is not None and page_counts.covers(trie, args.sort):
        ids = page_counts.page_ids(trie, ids_from, id_column, order, args)
    if ids is False:
        ids = offset_ids(ids_from, id_column, sorts, args, exact_total)
    if ids is None:
        return []  # past the last row: no query walks the whole index to find nothing
    return db.session.execute(stmt.where(id_column.in_(ids.scalar_subquery())).order_by(*order)).all()


def seek_rows(stmt, columns, values, downwards, order, limit):
    """The rows after (downwards: before) the key values, in order: two index seeks.

    Sorts are (key, id) or (id,). First the rest of the anchor's group of equal keys, then, if
    the page is not full, the keys beyond it. A single row-value test (key, id) > (k, i) is not
    one seek on SQLite when the id is the rowid: it scans the anchor's whole group of equal keys
    (a Next link deep in /users?sort=posts, where a million users have 3 posts: 120 ms).
    """
    *keys, last = columns
    *key_values, last_value = values
    assert len(keys) <= 1, "a sort is (key, id) or (id,)"
    same_group = [column == value for column, value in zip(keys, key_values, strict=True)]
    after, by_id = (last < last_value, last.desc()) if downwards else (last > last_value, last)
    # Within the group the key is fixed: ordered by the id alone, which SQLite then reads in index
    # order (ordered by lower(title), id too, it sorted the group's rest first).
    rows = db.session.execute(stmt.where(*same_group, after).order_by(by_id).limit(limit)).all()
    if keys and len(rows) < limit:
        beyond = keys[0] < key_values[0] if downwards else keys[0] > key_values[0]
        rows += db.session.execute(stmt.where(beyond).order_by(*order).limit(limit - len(rows))).all()
    return rows


def offset_ids(stmt, id_column, sorts, args, exact_total):
    """A SELECT of the ids on a typed page, counted from the nearer end; None past the last row.

    OFFSET walks every index entry it skips (a million of them: 150 ms on PostgreSQL). With the
    exact number of rows known, a page past the middle is counted back from the last row in the
    reverse order instead: the walk is at most half the index, and the last page is as quick as
    the first. stmt selects from as few tables as the sort allows (see page_rows).
    """
    limit, offset, sort = args.per_page, args.offset, args.sort
    if exact_total is not None and offset > exact_total // 2:
        left = exact_total - offset  # rows from this page's first to the very last
        if left <= 0:
            return None
        limit, offset = min(limit, left), max(0, left - limit)
        sort = sort.removeprefix("-") if sort.startswith("-") else f"-{sort}"
    return stmt.with_only_columns(id_column).order_by(*order_by(sorts, sort)).limit(limit).offset(offset)


@dataclass
class Page:
    items: list
    page: int
    per_page: int
    total: int
    # A search counts its matches only up to a cap (myapp/search/match.py): then total is a lower
    # bound ("1000+"), pages too, and there is a next page as long as this one is full.
    capped: bool = False
    # A search term too short for the index, matched at the start of the text only.
    prefix: bool = False

    @property
    def pages(self):
        return max(1, math.ceil(self.total / self.per_page))

    @property
    def has_prev(self):
        return self.page > 1

    @property
    def has_next(self):
        if self.capped:
            return len(self.items) == self.per_page
        return self.page < self.pages

    @property
    def first_index(self):
        return (self.page - 1) * self.per_page + 1
