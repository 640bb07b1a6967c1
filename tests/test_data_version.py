"""The data version (myapp/data_version.py): every committed write changes it, whatever the path;
reads and rolled-back writes leave it alone; restore and seed never bring back an old one."""

import threading

import pytest
from sqlalchemy import event, insert, select, text

from myapp import data_version
from myapp.database import write_intent
from myapp.extensions import db
from myapp.models import DataVersion, HistoryEntry, Post, User

from .conftest import ON_POSTGRES, csrf_token, sqlite_only
from .file_app import add_users


def version(app):
    with app.app_context():
        value = data_version.current()
        db.session.rollback()
        return value


@pytest.fixture
def changes(app):
    """changes(action) -> whether running action changed the data version."""

    def run(action):
        before = version(app)
        action()
        return version(app) != before

    return run


def test_reads_change_nothing(app, client, changes, make_user):
    user_id = make_user(posts=2)
    # The token's first use is written (its last use, kept to a few minutes: myapp/auth/tokens.py).
    assert changes(lambda: client.get("/api/users"))
    for url in ("/users", f"/users/{user_id}", "/posts", "/stats", "/api/users", "/activity"):
        assert not changes(lambda url=url: client.get(url)), url


def test_a_form_write_changes_it(client, changes, submit):
    response = None

    def add():
        nonlocal response
        response = submit("/users/new", {"username": "ann", "email": "ann@example.com", "role": "member"})

    assert changes(add)
    assert response.status_code == 303


def test_a_refused_write_changes_nothing(client, changes, make_user, submit):
    make_user("ann")
    response = None

    def add_taken():
        nonlocal response
        response = submit("/users/new", {"username": "ANN", "email": "x@example.com", "role": "member"})

    assert not changes(add_taken)
    assert response.status_code == 422


def test_api_writes_change_it(client, changes, make_user):
    user_id = make_user("ann")
    assert changes(lambda: client.post("/api/users", json={"username": "bea", "email": "bea@example.com"}))
    assert changes(lambda: client.patch(f"/api/users/{user_id}", json={"username": "anne"}))
    assert changes(lambda: client.post("/api/posts", json={"title": "Hi", "body": "", "user_id": user_id}))
    assert changes(lambda: client.delete(f"/api/users/{user_id}"))  # the user, their post by cascade


def test_a_core_statement_in_the_session_changes_it(app, changes, make_user):
    user_id = make_user("ann")

    def rename():
        with app.app_context(), write_intent():
            db.session.execute(db.update(User).where(User.id == user_id).values(username="anne"))
            db.session.commit()

    assert changes(rename)


def test_a_rolled_back_write_changes_nothing(app, changes):
    def add_then_roll_back():
        with app.app_context(), write_intent():
            db.session.add(User(username="ann", email="ann@example.com"))
            db.session.flush()
            db.session.rollback()

    assert not changes(add_then_roll_back)


def test_undo_from_the_history_changes_it(app, client, changes, make_user):
    user_id = make_user("ann", posts=1)
    assert (
        client.post(
            f"/users/{user_id}/delete", data={"csrf_token": csrf_token(client, f"/users/{user_id}/delete")}
        ).status_code
        == 303
    )
    with app.app_context():
        stmt = select(HistoryEntry.id).filter_by(kind="user", object_id=user_id, action="delete")
        entry_id = db.session.scalar(stmt)
    token = csrf_token(client, "/users/new")
    assert changes(lambda: client.post(f"/activity/{entry_id}/restore", data={"csrf_token": token}))
    with app.app_context():
        assert db.session.get(User, user_id) is not None


def test_account_changes_change_it(client, changes):
    token = csrf_token(client, "/account/tokens")
    assert changes(lambda: client.post("/account/tokens", data={"csrf_token": token, "name": "laptop"}))


@pytest.mark.parametrize(
    "args",
    [
        ["create-admin", "ops", "ops@example.com", "--password-stdin"],
        ["create-token", "root"],
        ["seed", "--users", "3"],
        ["invalidate-caches"],
    ],
)
def test_commands_change_it(app, admin_id, changes, runner, args):
    stdin = "a long enough passphrase\n" if "--password-stdin" in args else None
    result = None

    def run():
        nonlocal result
        result = runner.invoke(args=args, input=stdin)

    assert changes(run)
    assert result.exit_code == 0, result.output


def test_seed_and_invalidate_caches_give_a_new_epoch(app, runner):
    epochs = {version(app).partition(".")[0]}
    assert runner.invoke(args=["seed", "--users", "2"]).exit_code == 0
    epochs.add(version(app).partition(".")[0])
    assert runner.invoke(args=["invalidate-caches"]).exit_code == 0
    epochs.add(version(app).partition(".")[0])
    assert len(epochs) == 3


def test_a_commit_that_only_read_changes_nothing(app, changes, make_user):
    make_user("ann")

    def read_and_commit():
        with app.app_context():
            db.session.scalars(select(User)).all()
            db.session.commit()

    assert not changes(read_and_commit)


def test_every_shard_only_grows_and_the_sum_counts_every_commit(app, make_user):
    with app.app_context():
        start = int(data_version.current().partition(".")[2])
        db.session.rollback()
    for n in range(3):
        make_user(f"u{n}")  # one commit each
    with app.app_context():
        assert int(data_version.current().partition(".")[2]) == start + 3


@pytest.mark.skipif(not ON_POSTGRES, reason="shards are PostgreSQL's")
def test_postgresql_writers_spread_over_shards(app):
    """Writers on different threads add to different rows, so they do not all queue on one."""
    with app.app_context():
        start = db.session.scalar(select(db.func.sum(DataVersion.generation)))

    def write(n):
        with app.app_context(), write_intent():
            db.session.add(User(username=f"t{n}", email=f"t{n}@example.com"))
            db.session.commit()

    threads = [threading.Thread(target=write, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    with app.app_context():
        shards = db.session.scalars(select(DataVersion.shard).where(DataVersion.generation > 0)).all()
        total = db.session.scalar(select(db.func.sum(DataVersion.generation)))
    assert len(shards) > 1
    assert total == start + 8


def test_migrated_database_starts_with_shard_zero_and_a_random_epoch(file_app):
    with file_app.app_context():
        rows = db.session.execute(select(DataVersion.shard, DataVersion.epoch)).all()
    assert [shard for shard, _epoch in rows] == [0]
    assert len(rows[0].epoch) == 16


@sqlite_only
def test_restore_never_brings_back_a_version_served_before(file_app, tmp_path):
    runner = file_app.test_cli_runner()
    add_users(file_app, "alice")
    seen = [version(file_app)]
    assert runner.invoke(args=["backup", str(tmp_path / "backup.db")]).exit_code == 0
    add_users(file_app, "bob")
    seen.append(version(file_app))
    for _ in range(2):  # the same backup twice: each restore is a version of its own
        result = runner.invoke(args=["restore", str(tmp_path / "backup.db")])
        assert result.exit_code == 0, result.output
        after = version(file_app)
        assert after not in seen
        seen.append(after)
        add_users(file_app, f"carol{len(seen)}")  # and writes after it go on from there
        assert version(file_app) not in seen
        seen.append(version(file_app))


def test_migrations_leave_the_version_alone_until_they_end(file_app):
    """The migrations' own commits skip the hook (the table may not exist yet); the run ends with
    a new epoch."""
    import flask_migrate

    before = version(file_app)
    with file_app.app_context():
        flask_migrate.downgrade(revision="0003")
        assert not db.inspect(db.engine).has_table("data_versions")
        flask_migrate.upgrade()
    assert version(file_app).partition(".")[0] != before.partition(".")[0]


def test_writes_outside_the_orm_through_the_engine_change_it(app, changes, admin_id):
    def core_insert():
        with app.app_context(), write_intent(), db.engine.begin() as connection:
            connection.execute(insert(Post).values(title="raw", body="", user_id=admin_id, version=1))

    def driver_sql():
        with app.app_context(), write_intent(), db.engine.begin() as connection:
            connection.execute(text("UPDATE posts SET title = 'raw2'"))

    assert changes(core_insert)
    assert changes(driver_sql)


def test_the_version_is_the_last_thing_a_write_locks(app, submit, client):
    """Step 4 of the lock order (myapp/transactions.py): the shard's row is written just before
    COMMIT, after every other statement of the transaction."""
    with app.app_context():
        engine = db.engine
    sent = []

    def record(_conn, _cursor, statement, *_args):
        sent.append(statement)

    token = csrf_token(client, "/users/new")
    event.listen(engine, "before_cursor_execute", record)
    try:
        data = {"username": "ann", "email": "ann@example.com", "role": "member", "csrf_token": token}
        assert client.post("/users/new", data=data).status_code == 303
    finally:
        event.remove(engine, "before_cursor_execute", record)
    writes = [s for s in sent if not s.startswith(("SELECT", "BEGIN", "COMMIT"))]
    assert "INSERT INTO history" in writes[-2]
    assert writes[-1].startswith("INSERT INTO data_versions") and "ON CONFLICT" in writes[-1]
    assert sum("data_versions" in s for s in sent) == 1
