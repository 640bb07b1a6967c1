"""Search through the index (SPEC §14): substrings of 3+ characters anywhere, 1-2 at the start,
counts capped at 1000 with Next links that keep going, on SQLite (FTS5) and PostgreSQL (pg_trgm)."""

import re
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, insert, select, update

from myapp.counters import add_to_total, total
from myapp.database import write_intent
from myapp.extensions import db
from myapp.models import Post, User
from myapp.search import budget, match
from myapp.search.match import CAP

from .conftest import ON_POSTGRES, sqlite_only


def names(response):
    return sorted(u["username"] for u in response.get_json()["items"])


def titles(response):
    return sorted(p["title"] for p in response.get_json()["items"])


def test_finds_substrings_of_usernames_and_emails_ignoring_case(client, make_user):
    make_user("Alexander", email="alex@north.example")
    make_user("bob", email="ROBERT@south.example")
    make_user("carol", email="carol@west.example")
    assert names(client.get("/api/users?q=XAND")) == ["Alexander"]
    assert names(client.get("/api/users?q=obert@SOUTH")) == ["bob"]  # an email, for an admin
    assert names(client.get("/api/users?q=.EXAMPLE")) == ["Alexander", "bob", "carol"]
    assert names(client.get("/api/users?q=nobody")) == []
    html = client.get("/users?q=xan").get_data(as_text=True)
    assert "1 user matching “xan”" in html and "Alexander" in html


def test_anonymous_readers_do_not_find_users_by_email(app, make_user):
    app.config["READ_ACCESS"] = "public"
    make_user("dora", email="hidden-mailbox@example.com")
    anonymous = app.test_client()
    assert names(anonymous.get("/api/users?q=mailbox")) == []
    assert names(anonymous.get("/api/users?q=DOR")) == ["dora"]


@pytest.mark.parametrize(
    ("term", "expected"),
    [
        ("50%", ["50% off"]),
        ("a_b", ["a_b c"]),
        ("k\\x", ["back\\x"]),
        ('say "hi', ['say "hi"']),
        ("it's", ["it's here"]),
        ("{title}", ["{title}: x"]),
        ("NEAR(", ["NEAR(a b)"]),
        ("ÜBER", ["Über alles"]),
        ("über", ["Über alles"] if ON_POSTGRES else []),  # ILIKE's own rules: SQLite folds ASCII only
    ],
)
def test_special_characters_in_a_title_search_match_themselves(client, make_user, make_post, term, expected):
    author = make_user("author")
    for title in ("50% off", "500 off", "a_b c", "axb c", "back\\x", 'say "hi"', "it's here", "{title}: x"):
        make_post(author, title=title)
    make_post(author, title="NEAR(a b)")
    make_post(author, title="Über alles")
    assert titles(client.get("/api/posts", query_string={"q": term})) == expected


def test_the_index_follows_inserts_edits_and_deletes(client, make_user, make_post):
    user_id = make_user("firstname", email="first@example.com")
    post_id = make_post(user_id, title="Original title")
    assert names(client.get("/api/users?q=firstn")) == ["firstname"]
    assert titles(client.get("/api/posts?q=original")) == ["Original title"]

    assert client.patch(f"/api/users/{user_id}", json={"username": "renamed"}).status_code == 200
    assert client.patch(f"/api/posts/{post_id}", json={"title": "Changed title"}).status_code == 200
    assert names(client.get("/api/users?q=firstn")) == []
    assert names(client.get("/api/users?q=renam")) == ["renamed"]
    assert names(client.get("/api/users?q=first@")) == ["renamed"]  # the email did not change
    assert titles(client.get("/api/posts?q=original")) == []
    assert titles(client.get("/api/posts?q=changed")) == ["Changed title"]

    assert client.delete(f"/api/posts/{post_id}").status_code == 204
    assert titles(client.get("/api/posts?q=changed")) == []
    other_post = make_post(user_id, title="Goes with its author")
    assert client.delete(f"/api/users/{user_id}").status_code == 204  # and other_post by cascade
    assert names(client.get("/api/users?q=renam")) == []
    assert titles(client.get("/api/posts?q=with its")) == []
    assert client.get(f"/api/posts/{other_post}").status_code == 404


def test_one_or_two_characters_match_the_start_only_and_the_page_says_so(client, make_user, make_post):
    ab = make_user("abby", email="zed@example.com")
    make_user("cab", email="abe@example.com")
    make_user("zoe", email="zoe@example.com")
    make_post(ab, title="Abacus")
    make_post(ab, title="Kebab")
    assert names(client.get("/api/users?q=AB")) == ["abby", "cab"]  # cab by its email, abe@
    assert names(client.get("/api/users?q=z")) == ["abby", "zoe"]  # zed@, zoe
    assert titles(client.get("/api/posts?q=ab")) == ["Abacus"]
    assert titles(client.get("/api/posts?q=aba")) == ["Abacus"]  # three: anywhere again
    assert titles(client.get("/api/posts?q=bab")) == ["Kebab"]
    html = client.get("/users?q=ab").get_data(as_text=True)
    assert "2 users whose name or email starts with “ab”" in html
    assert "type three or more to search anywhere" in html
    html = client.get("/posts?q=k").get_data(as_text=True)
    assert "1 post whose title starts with “k”" in html
    assert "No posts whose title starts with “q”" in client.get("/posts?q=q").get_data(as_text=True)


@pytest.mark.parametrize("term", ["\ud7ff", "\U0010ffff", "a\U0010ffff", "%", "_", "\\", '"'])
def test_short_terms_at_the_edges_of_unicode_and_like(client, make_user, term):
    make_user("plain")
    response = client.get("/api/users", query_string={"q": term})
    assert response.status_code == 200
    assert response.get_json()["items"] == []


def bulk_users(app, prefix, count):
    """count users named <prefix>0001... with one post each, in one INSERT per table (not forms)."""
    stamp = datetime(2026, 1, 1, tzinfo=UTC)
    with app.app_context(), write_intent():
        users = [
            {"username": f"{prefix}{n:04d}", "email": f"{prefix}{n:04d}@example.com", "post_count": 1}
            for n in range(1, count + 1)
        ]
        db.session.execute(insert(User).values(created_at=stamp, updated_at=stamp), users)
        ids = db.session.scalars(select(User.id).where(User.username.like(f"{prefix}%"))).all()
        posts = [{"title": f"{prefix} post {n}", "user_id": user_id} for n, user_id in enumerate(ids)]
        db.session.execute(insert(Post).values(created_at=stamp, updated_at=stamp), posts)
        connection = db.session.connection()
        add_to_total(connection, "users", count)
        add_to_total(connection, "posts", count)
        db.session.commit()
    return ids


NEXT = re.compile(r'<a rel="next" href="([^"]+)"')


@pytest.mark.parametrize("path", ["/users?q=bulky", "/posts?q=bulky"])
def test_more_than_1000_matches_show_1000_plus_and_next_links_walk_past_them(app, client, path):
    ids = bulk_users(app, "bulky", CAP + 105)
    html = client.get(path).get_data(as_text=True)
    assert re.search(r"1000\+ (users|posts) matching “bulky”", html)
    assert 'aria-current="page">Page 1</span>' in html  # no "of 50": the last page is not known
    seen, url, pages = [], path, 0
    while url:
        html = client.get(url.replace("&amp;", "&")).get_data(as_text=True)
        seen += re.findall(rf'href="{path.split("?")[0]}/(\d+)"', html)
        match = NEXT.search(html)
        url = match.group(1) if match else None
        pages += 1
        assert pages < 100
    assert len(seen) == len(set(seen)) == CAP + 105  # every match once, then no Next link
    if path.startswith("/users"):
        assert sorted(map(int, seen)) == sorted(ids)


def test_the_api_says_when_its_total_is_capped(app, client):
    bulk_users(app, "many", CAP + 5)
    body = client.get("/api/users?q=many&per_page=100").get_json()
    assert (body["total"], body["total_capped"], len(body["items"])) == (CAP, True, 100)
    page_11 = client.get("/api/users?q=many&per_page=100&page=11").get_json()
    assert [u["username"] for u in page_11["items"]] == [f"many{n:04d}" for n in range(1001, 1006)]
    exact = client.get("/api/users?q=many0").get_json()  # many0001 to many0999
    assert (exact["total"], exact["total_capped"], exact["pages"]) == (999, False, 50)
    # Unsearched lists keep their exact kept counts.
    assert client.get("/api/users").get_json()["total"] == CAP + 5 + 1  # and the admin
    assert client.get("/api/users").get_json()["total_capped"] is False


@pytest.mark.parametrize("out_of_time", [False, True])
def test_a_common_term_and_a_rare_one_agree_with_a_plain_scan(app, client, monkeypatch, out_of_time):
    """Every plan gives the rows a plain scan would: the sort index walked for a common term, the
    index's ids for a rare one, and (out_of_time, SQLite) the walk given up for the index's ids."""
    if out_of_time:
        # SQLite only: PostgreSQL's shortest timeout (1 ms) is not sure to end a walk this short.
        monkeypatch.setattr(match, "QUICK_WALK_MS", {**match.QUICK_WALK_MS, "sqlite": 0})
        monkeypatch.setattr(budget, "CHECK_STEPS", 1)  # SQLite: look at the clock at every step
    plans, filters = [], match.Search.filters

    def spy(search, walk=None):
        plans.append(walk)
        return filters(search, walk)

    monkeypatch.setattr(match.Search, "filters", spy)
    bulk_users(app, "walk", CAP + 30)
    orders = {
        "-created": [User.created_at.desc(), User.id.desc()],
        "email": [func.lower(User.email), User.id],
        "username": [func.lower(User.username), User.id],
        "-posts": [User.post_count.desc(), User.id.desc()],
    }
    for q, sort in (("walk", "-created"), ("walk", "email"), ("walk10", "username"), ("walk0", "-posts")):
        body = client.get(f"/api/users?q={q}&sort={sort}&per_page=100").get_json()
        with app.app_context():
            stmt = select(User.username).where(func.lower(User.username).like(f"%{q}%"))
            expected = db.session.scalars(stmt.order_by(*orders[sort]).limit(100)).all()
        assert [u["username"] for u in body["items"]] == expected
    # The two common terms walked the sort index (and gave up for the index's ids: out of time on
    # SQLite, where no time at all ends a walk at its first step), the two rare ones (walk10,
    # walk0 below CAP) read the index's ids (walk=None) at once.
    walked = [True, False] if out_of_time and not ON_POSTGRES else [True]
    assert plans == [*walked, *walked, None, None]


def test_seed_then_search(app, client, runner):
    result = runner.invoke(args=["seed", "--users", "30", "--posts-per-user", "2"])
    assert result.exit_code == 0, result.output
    assert names(client.get("/api/users?q=user000017")) == ["user000017"]
    body = client.get("/api/posts?q=part 2&per_page=100").get_json()
    assert body["total"] == 30 and all(p["title"].endswith("part 2") for p in body["items"])


@sqlite_only
def test_the_fts_index_is_whole_after_writes_and_seed(app, client, make_user, runner):
    make_user("someone", posts=2)
    assert runner.invoke(args=["seed", "--users", "20"]).exit_code == 0
    with app.app_context():
        connection = db.session.connection()
        for fts in ("users_fts", "posts_fts"):
            # 'integrity-check' with rank 1 compares the index with the content table's rows.
            connection.exec_driver_sql(f"INSERT INTO {fts}({fts}, rank) VALUES ('integrity-check', 1)")
        # The triggers fire only for the searched columns: a new post leaves its author's entry be.
        before = connection.exec_driver_sql("SELECT count(*) FROM users_fts_data").scalar()
        db.session.execute(update(User).values(post_count=User.post_count))
        assert connection.exec_driver_sql("SELECT count(*) FROM users_fts_data").scalar() == before
        db.session.rollback()


def test_counts_kept_for_unsearched_lists(client, make_user):
    make_user("kept", posts=3)
    body = client.get("/api/posts").get_json()
    assert (body["total"], body["total_capped"]) == (3, False)
    with client.application.app_context():
        assert total("posts") == 3  # the kept count (summed over its shards on PostgreSQL)
