"""flask recount: the kept counts set from the rows again, after writes made outside the app."""

from sqlalchemy import text

from myapp import data_version
from myapp.counters import totals
from myapp.extensions import db
from myapp.models import User


def data_version_now(app):
    with app.app_context():
        return data_version.read(db.session.connection())


def test_recount_repairs_counts_left_stale_by_sql_typed_by_hand(app, runner, make_user):
    alice = make_user("alice", posts=3)
    bob = make_user("bob", posts=2)
    with app.app_context():
        # What someone at the sqlite3 or psql prompt might do: no ORM, so no count changes.
        db.session.execute(text("DELETE FROM posts WHERE user_id = :id"), {"id": alice})
        db.session.execute(text("UPDATE users SET username = 'zed' WHERE id = :id"), {"id": bob})
        db.session.execute(text("INSERT INTO row_counts (name, n) VALUES ('posts:3', 4)"))
        db.session.commit()
    checked = runner.invoke(args=["check-db"])
    assert checked.exit_code != 0
    assert f"user {alice} has post_count 3, but 0 posts" in checked.output
    assert "row_counts says 9 posts, the table has 2" in checked.output
    assert "page_counts says" in checked.output
    assert "`flask recount`" in checked.output
    before = data_version_now(app)

    result = runner.invoke(args=["recount"])

    assert result.exit_code == 0, result.output
    assert "row_counts: 9 posts → 2" in result.output
    assert "users.post_count: 1 users had the wrong number" in result.output
    assert "page_counts:" in result.output
    assert "the kept counts now match the rows" in result.output
    with app.app_context():
        assert totals() == {"users": 2, "posts": 2}
        assert db.session.get(User, alice).post_count == 0
        assert db.session.get(User, bob).post_count == 2
        # One row per table again: the shards were folded into it.
        names = db.session.scalars(text("SELECT name FROM row_counts WHERE name LIKE 'posts%'")).all()
        assert names == ["posts"]
    # Totals show on pages: the cached ones and their ETags must not outlive the recount.
    assert data_version_now(app) != before
    again = runner.invoke(args=["check-db"])
    assert again.exit_code == 0, again.output
    assert "kept counts match the rows: ok" in again.output


def test_recount_of_right_counts_changes_nothing(app, runner, make_user):
    alice = make_user("alice", posts=2)
    result = runner.invoke(args=["recount"])
    assert result.exit_code == 0, result.output
    assert "the kept counts were already right" in result.output
    with app.app_context():
        assert totals() == {"users": 1, "posts": 2}
        assert db.session.get(User, alice).post_count == 2


def test_lists_show_the_recounted_total(app, runner, make_user, client):
    make_user("alice", posts=3)
    with app.app_context():
        db.session.execute(text("DELETE FROM posts WHERE id = (SELECT min(id) FROM posts)"))
        db.session.commit()
    assert "3 posts" in client.get("/posts").get_data(as_text=True)  # the stale count
    assert runner.invoke(args=["recount"]).exit_code == 0
    page = client.get("/posts")
    assert page.status_code == 200
    assert "2 posts" in page.get_data(as_text=True)
