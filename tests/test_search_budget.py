"""A common term's page walks the sort index with a budget, and past it reads the matches through
the search index instead (myapp/search/match.py, budget.py): the rows must be the same either way.

The matches here all sort after many rows that do not match ("user9" among a million user<N>), and
the budget is made tiny so that the walk gives up: SQLite none (it ends at its first step),
PostgreSQL 1 ms, against a walk past thousands of rows (some 10 ms there).
"""

import re
from contextlib import contextmanager

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import OperationalError

from myapp.extensions import db
from myapp.models import Post, User
from myapp.search import budget, match
from myapp.search.match import CAP, QUICK_WALK_MS, Search

from .conftest import ON_POSTGRES
from .test_search import bulk_users

FILLER = 10_000 if ON_POSTGRES else 2_000  # rows the walk must pass before the first match
LATE = CAP + 40  # the matches: more than CAP, so the page is walked for, not read by ids
NEXT = re.compile(r'<a rel="next" href="([^"]+)"')
ORDERS = {
    "username": [func.lower(User.username), User.id],
    "-username": [func.lower(User.username).desc(), User.id.desc()],
    "email": [func.lower(User.email), User.id],
}


@pytest.fixture
def late_matches(app, monkeypatch):
    """Users "aaa<n>" then "zlate<n>": a search for "zlate" matches only the last by username;
    the walk's budget is tiny, and plans records each walk (True) and its fallback (False)."""
    bulk_users(app, "aaa", FILLER)
    bulk_users(app, "zlate", LATE)
    monkeypatch.setattr(match, "QUICK_WALK_MS", {"sqlite": 0, "postgresql": 0})
    monkeypatch.setattr(budget, "CHECK_STEPS", 1)  # SQLite: look at the clock at every step
    monkeypatch.setattr(match, "INDEX_MS", 60_000)  # the index's plan always finishes here
    plans, filters = [], match.Search.filters

    def spy(search, walk=None):
        plans.append(walk)
        return filters(search, walk)

    monkeypatch.setattr(match.Search, "filters", spy)
    return plans


def expected(app, sort, offset, limit):
    with app.app_context():
        stmt = select(User.username).where(User.username.like("%zlate%")).order_by(*ORDERS[sort])
        return db.session.scalars(stmt.offset(offset).limit(limit)).all()


@pytest.mark.parametrize("sort", ["username", "email"])
def test_a_walk_past_its_budget_gives_the_rows_a_plain_scan_would(app, client, late_matches, sort):
    for page in (1, 2, 11):  # typed pages: the first, an OFFSET, and the last (40 rows)
        body = client.get(f"/api/users?q=zlate&sort={sort}&per_page=100&page={page}").get_json()
        assert [u["username"] for u in body["items"]] == expected(app, sort, (page - 1) * 100, 100)
        assert (body["total"], body["total_capped"]) == (CAP, True)
    # Every page walked first and gave up for the search index: the fallback made these rows.
    assert late_matches == [True, False] * 3


def test_next_links_past_a_walk_given_up_keep_the_order(app, client, late_matches):
    html = client.get("/users?q=zlate&sort=username").get_data(as_text=True)
    first = re.findall(r'href="/users/(\d+)"', html)
    html = client.get(NEXT.search(html).group(1).replace("&amp;", "&")).get_data(as_text=True)
    second = re.findall(r'href="/users/(\d+)"', html)
    with app.app_context():
        ids = select(User.id).where(User.username.like("%zlate%")).order_by(*ORDERS["username"])
        assert list(map(int, first + second)) == db.session.scalars(ids.limit(len(first + second))).all()
    assert len(first) == len(second) == 20
    assert late_matches == [True, False, True, False]  # the cursor's page too


def test_a_walk_that_finds_its_page_early_keeps_it(app, client, late_matches, monkeypatch):
    # Descending, the matches come first: the walk returns at once. A budget of a second: the
    # test is of the plan kept, not of the machine's speed (the real one is a few milliseconds).
    monkeypatch.setattr(match, "QUICK_WALK_MS", dict.fromkeys(QUICK_WALK_MS, 1000))
    body = client.get("/api/users?q=zlate&sort=-username&per_page=100").get_json()
    assert [u["username"] for u in body["items"]] == expected(app, "-username", 0, 100)
    assert late_matches == [True]


def test_many_matches_get_a_longer_walk_before_they_are_read(app, client, late_matches, monkeypatch):
    # Reading the matches is made to look slow: past the quick walk, a second, long walk finds them.
    monkeypatch.setattr(match, "MATCH_US", dict.fromkeys(match.MATCH_US, 1_000))
    body = client.get("/api/users?q=zlate&sort=username&per_page=100&page=2").get_json()
    assert [u["username"] for u in body["items"]] == expected(app, "username", 100, 100)
    assert late_matches == [True, True]


def test_few_enough_matches_are_read_without_a_second_walk(app, client, late_matches, monkeypatch):
    # Reading them looks cheap but the bar is lowered to nothing: a second walk, out of time too,
    # then the matches read after all.
    monkeypatch.setattr(match, "READ_MATCHES_MS", 0)
    monkeypatch.setattr(match, "LONG_WALK_MS", 0)
    body = client.get("/api/users?q=zlate&sort=username&per_page=100").get_json()
    assert [u["username"] for u in body["items"]] == expected(app, "username", 0, 100)
    assert late_matches == [True, True, False]


def test_the_estimate_of_the_matches_comes_from_a_sample(app, late_matches):
    with app.app_context():
        # All the filler (and the admin) but no "zlate": the sample sees their share.
        filler = Search("aaa", User, ("username", "email")).estimated_matches()
        assert 0.7 * FILLER <= filler <= 1.3 * FILLER
        # Bunched at the end of the ids, the late ones are seen by fewer windows: a rough figure,
        # never under CAP + 1 (more than CAP match: that is why there is an estimate).
        assert CAP < Search("zlate", User, ("username", "email")).estimated_matches() <= 3 * LATE
        # One author's posts: no estimate (the sample is of the whole table).
        scoped = Search("aaa", Post, ("title",), scope=[Post.user_id == 1])
        assert scoped.estimated_matches() is None


postgres_only = pytest.mark.skipif(not ON_POSTGRES, reason="PostgreSQL's settings and timeouts")


@postgres_only
def test_past_the_index_plans_bound_too_the_walk_goes_on_without_one(app, client, late_matches, monkeypatch):
    @contextmanager
    def index_plan_out_of_time(ms):
        # A real statement_timeout cancel, as a busy machine would give the index's plan.
        with budget.walk_budget(1):
            db.session.execute(text("SELECT pg_sleep(0.2)"))
        yield

    monkeypatch.setattr(budget, "index_plan", index_plan_out_of_time)
    body = client.get("/api/users?q=zlate&sort=username&per_page=100&page=2").get_json()
    assert [u["username"] for u in body["items"]] == expected(app, "username", 100, 100)
    assert late_matches == [True, True]  # the bounded walk, then (no index plan) the unbounded one


@postgres_only
def test_settings_of_a_walk_and_its_fallback_end_with_them(app):
    def setting(name):
        return db.session.scalar(select(func.current_setting(name)))

    with app.app_context():
        timeout = setting("statement_timeout")
        with budget.index_plan(60_000):
            assert (setting("enable_indexscan"), setting("enable_indexonlyscan")) == ("off", "off")
        assert (setting("enable_indexscan"), setting("enable_indexonlyscan")) == ("on", "on")
        with pytest.raises(OperationalError) as error, budget.walk_budget(1):
            db.session.execute(text("SELECT pg_sleep(0.2)"))
        assert budget.interrupted(error.value)
        # The savepoint rolled back: the transaction goes on, with its own timeout.
        assert setting("statement_timeout") == timeout
        with budget.walk_budget(5000):
            assert (setting("statement_timeout"), setting("max_parallel_workers_per_gather")) == ("5s", "0")
        assert setting("statement_timeout") == timeout
        db.session.rollback()
