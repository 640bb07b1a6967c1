"""flask seed: deterministic demo data, counts kept exact, numbering that never collides."""

import pytest
from sqlalchemy import func, select

from myapp.commands import seed as seed_module
from myapp.extensions import db
from myapp.models import Post, RowCount, User


def seed(runner, users, posts_per_user=3):
    return runner.invoke(args=["seed", "--users", str(users), "--posts-per-user", str(posts_per_user)])


def counts(fetch):
    """Each table's total: the sum of its row_counts shards ("posts", "posts:3", ...)."""
    found = {}
    for name, n in fetch(select(RowCount.name, RowCount.n)):
        table = name.partition(":")[0]
        found[table] = found.get(table, 0) + n
    return found


def seeded_rows(fetch):
    users = fetch(select(User.username, User.email, User.post_count, User.created_at).order_by(User.id))
    posts = fetch(select(User.username, Post.title, Post.body, Post.created_at).join(User).order_by(Post.id))
    return users, posts


def test_seed_adds_users_and_posts_and_keeps_counts_exact(runner, fetch):
    result = seed(runner, 5, 2)
    assert result.exit_code == 0, result.output
    assert "Added 5 users (user000001 to user000005) and 10 posts." in result.output
    users, posts = seeded_rows(fetch)
    assert [u.username for u in users] == [f"user00000{n}" for n in range(1, 6)]
    assert users[0].email == "user000001@example.com"
    assert {u.post_count for u in users} == {2}
    assert len(posts) == 10
    assert counts(fetch) == {"users": 5, "posts": 10}
    # post_count agrees with the rows themselves.
    per_user = dict(fetch(select(Post.user_id, func.count()).group_by(Post.user_id)))
    assert sorted(per_user.values()) == [2] * 5


def test_seeded_users_show_on_the_pages_with_their_counts(app, runner, anon_client):
    app.config["READ_ACCESS"] = "public"  # an anonymous reader: no account among the users
    client = anon_client
    assert seed(runner, 3, 4).exit_code == 0
    html = client.get("/users").get_data(as_text=True)
    assert "3 users" in html and "user000003" in html
    assert html.count('<td data-label="Posts" class="num">4</td>') == 3
    assert "12 posts" in client.get("/posts").get_data(as_text=True)


def test_second_run_continues_the_numbering(runner, fetch):
    assert seed(runner, 3).exit_code == 0
    result = seed(runner, 2)
    assert result.exit_code == 0, result.output
    assert "user000004 to user000005" in result.output
    assert [u.username for u in seeded_rows(fetch)[0]][-2:] == ["user000004", "user000005"]
    assert counts(fetch) == {"users": 5, "posts": 15}


def test_numbering_skips_names_and_emails_people_already_took(runner, make_user, fetch):
    make_user("User000007")  # the unique index ignores case: user000007 would collide
    make_user("carol", email="USER000009@example.com")
    make_user("user0000000000000011x")  # not a seeded-style name: no effect
    result = seed(runner, 2, 1)
    assert result.exit_code == 0, result.output
    assert "user000010 to user000011" in result.output
    assert counts(fetch) == {"users": 5, "posts": 2}


def test_same_command_gives_the_same_data(app, runner, fetch):
    assert seed(runner, 4, 3).exit_code == 0
    first = seeded_rows(fetch)
    with app.app_context():
        db.drop_all()
        db.create_all()
    assert seed(runner, 4, 3).exit_code == 0
    assert seeded_rows(fetch) == first
    assert len({post.title for post in first[1]}) > 1  # varied, not one title repeated


def test_many_batches_each_keep_the_counts(runner, fetch, monkeypatch):
    monkeypatch.setattr(seed_module, "BATCH_ROWS", 8)  # 2 users and their 6 posts a batch
    result = seed(runner, 5, 3)
    assert result.exit_code == 0, result.output
    assert counts(fetch) == {"users": 5, "posts": 15}
    assert fetch(select(func.count()).select_from(Post))[0][0] == 15


def test_zero_users_adds_nothing(runner, fetch):
    result = seed(runner, 0)
    assert result.exit_code == 0
    assert "Added no users" in result.output
    assert counts(fetch) == {"users": 0, "posts": 0}


@pytest.mark.parametrize("args", [["--users", "-1"], ["--users", "x"], ["--posts-per-user", "-2"]])
def test_bad_arguments_are_refused(runner, args):
    result = runner.invoke(args=["seed", *args])
    assert result.exit_code == 2
    assert "Invalid value" in result.output


def test_missing_tables_fail_with_a_clear_message(app, runner):
    with app.app_context():
        db.drop_all()
    result = seed(runner, 2)
    assert result.exit_code == 1
    assert "flask db upgrade" in result.output
    with app.app_context():
        db.create_all()  # for the fixture's teardown
