"""SPEC §15: two app instances (3 gunicorn workers each) on one PostgreSQL database, writes that meet
on the same rows. Each race is fired ~100 times, the two requests of a pair released together and
sent to different instances: no 500, only the answers a lost race may get, and afterwards every
kept count equals the rows. Then each deadlock of the old design is staged: a test connection holds
a lock so that the two requests queue in the order that used to deadlock, proving the lock order
(myapp/transactions.py) rather than the luck of timing."""

import os
from collections import Counter

import pytest

from .conftest import CSRF_INPUT
from .pg_servers import ON_POSTGRES, Cluster, at_once, in_thread

pytestmark = [
    pytest.mark.skipif(not ON_POSTGRES, reason="several app servers on one database: PostgreSQL only"),
    pytest.mark.slow,
]

ROUNDS = int(os.environ.get("RACE_ROUNDS", "100"))


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    cluster = Cluster(tmp_path_factory.mktemp("pg-races"))
    yield cluster
    cluster.stop()
    assert " 500 " not in cluster.logs() and "Traceback" not in cluster.logs(), cluster.logs()[-5000:]


def statuses(results):
    return Counter(status for status, _h, _b in results)


def assert_author_gone(result):
    """A post for a user deleted meanwhile: the API's 422 naming user_id (SPEC §4), as sequentially."""
    status, _h, body = result
    assert status == 422 and body["error"]["fields"] == {"user_id": "No user has this id."}, result


def test_delete_user_while_a_post_is_added_for_them(cluster):
    one, two = cluster.apis
    seen = Counter()
    for i in range(ROUNDS):
        user = one.add_user(f"race_a{i}")
        one.add_post(user)
        deleted, created = at_once(
            (one, "DELETE", f"/api/users/{user}"),
            (two, "POST", "/api/posts", {"title": "racing", "user_id": user}),
        )
        assert deleted[0] == 204, deleted
        if created[0] != 201:
            assert_author_gone(created)
        seen[(deleted[0], created[0])] += 1
    print(f"\ndelete user vs add post, {ROUNDS} rounds: {dict(seen)}")
    cluster.check()


def test_opposite_post_moves_between_two_users(cluster):
    one, two = cluster.apis
    a, b = one.add_user("mover_a"), one.add_user("mover_b")
    p, q = one.add_post(a, "p"), one.add_post(b, "q")
    for i in range(ROUNDS):
        # Round i moves p to b and q to a, then the next round back again.
        to_p, to_q = (b, a) if i % 2 == 0 else (a, b)
        moved_p, moved_q = at_once(
            (one, "PATCH", f"/api/posts/{p}", {"user_id": to_p}),
            (two, "PATCH", f"/api/posts/{q}", {"user_id": to_q}),
        )
        assert moved_p[0] == moved_q[0] == 200, (moved_p, moved_q)
        assert (moved_p[2]["user_id"], moved_q[2]["user_id"]) == (to_p, to_q)
    cluster.check()


def test_delete_user_while_one_of_their_posts_is_deleted(cluster):
    one, two = cluster.apis
    for i in range(ROUNDS):
        user = one.add_user(f"race_c{i}")
        post = one.add_post(user)
        one.add_post(user)
        deleted_user, deleted_post = at_once(
            (one, "DELETE", f"/api/users/{user}"),
            (two, "DELETE", f"/api/posts/{post}"),
        )
        assert deleted_user[0] == 204, deleted_user
        assert deleted_post[0] in (204, 404), deleted_post
    cluster.check()


@pytest.mark.parametrize("kind", ["users", "posts"])
def test_the_same_row_deleted_twice(cluster, kind):
    """Exactly one DELETE wins (204); the other finds the row gone: 404, as if it had come second."""
    one, two = cluster.apis
    seen = Counter()
    for i in range(ROUNDS):
        user = one.add_user(f"twice_{kind}{i}")
        row = user if kind == "users" else one.add_post(user)
        results = at_once(
            (one, "DELETE", f"/api/{kind}/{row}"),
            (two, "DELETE", f"/api/{kind}/{row}"),
        )
        assert sorted(statuses(results).elements()) == [204, 404], results
        error = next(body for status, _h, body in results if status == 404)["error"]
        assert error["code"] == "not_found"
        seen.update(statuses(results))
    cluster.check()


@pytest.mark.parametrize("kind", ["users", "posts"])
def test_patch_then_delete_of_the_same_row(cluster, kind):
    one, two = cluster.apis
    for i in range(ROUNDS):
        user = one.add_user(f"pd_{kind}{i}")
        row = user if kind == "users" else one.add_post(user)
        change = {"email": f"changed_pd{i}@example.com"} if kind == "users" else {"title": "changed"}
        patched, deleted = at_once(
            (one, "PATCH", f"/api/{kind}/{row}", change),
            (two, "DELETE", f"/api/{kind}/{row}"),
        )
        assert patched[0] in (200, 404), patched
        assert deleted[0] == 204, deleted
    cluster.check()


def staged(cluster, hold, first, second, mode="UPDATE", hold_post=None):
    """Hold `hold` (user ids; or the post hold_post) locked FOR `mode` in a test transaction; send
    `first` and wait until it waits for a lock, then `second` likewise; release; both answers."""
    with cluster.connect() as conn:
        conn.execute(f"SELECT id FROM users WHERE id = ANY(%s) ORDER BY id FOR {mode}", [list(hold)])
        if hold_post is not None:
            conn.execute(f"SELECT id FROM posts WHERE id = %s FOR {mode}", [hold_post])
        join_first = in_thread(first)
        cluster.wait_for_waiters(conn, 1)
        join_second = in_thread(second)
        cluster.wait_for_waiters(conn, 2)
        conn.rollback()
    return join_first(), join_second()


def test_staged_post_added_while_its_author_is_deleted(cluster):
    """The old order: the insert's foreign-key lock on the author, then the counts; the delete took
    the counts, then the author: a deadlock (500) every time this interleaving happened."""
    one, two = cluster.apis
    user = one.add_user("staged_a")
    one.add_post(user)
    created, deleted = staged(
        cluster,
        [user],
        (one, "POST", "/api/posts", {"title": "staged", "user_id": user}),
        (two, "DELETE", f"/api/users/{user}"),
    )
    assert created[0] == 201, created
    assert deleted[0] == 204, deleted
    assert cluster.check()
    assert cluster.apis[0].request("GET", f"/api/posts/{created[2]['id']}")[0] == 404  # went with the user


def test_staged_opposite_moves(cluster):
    """The old order: each move took its old author's post_count, then the new one's; two opposite
    moves held one each and waited for the other."""
    one, two = cluster.apis
    a, b = sorted([one.add_user("staged_ma"), one.add_user("staged_mb")])
    p, q = one.add_post(a, "p"), one.add_post(b, "q")
    moved_p, moved_q = staged(
        cluster,
        [a],
        (one, "PATCH", f"/api/posts/{p}", {"user_id": b}),
        (two, "PATCH", f"/api/posts/{q}", {"user_id": a}),
        mode="NO KEY UPDATE",
    )
    assert moved_p[0] == moved_q[0] == 200, (moved_p, moved_q)
    cluster.check()


def test_staged_user_deleted_while_one_of_their_posts_is_deleted(cluster):
    """The old order: the user delete took the counts, then the user, then its posts; the post
    delete took the post, then the counts."""
    one, two = cluster.apis
    user = one.add_user("staged_c")
    post = one.add_post(user)
    one.add_post(user)
    deleted_user, deleted_post = staged(
        cluster,
        [user],
        (one, "DELETE", f"/api/users/{user}"),
        (two, "DELETE", f"/api/posts/{post}"),
    )
    assert deleted_user[0] == 204, deleted_user
    assert deleted_post[0] == 404, deleted_post  # it went with its author, who was deleted first
    cluster.check()


def test_staged_pages_delete_the_same_row_twice(cluster):
    """The delete pages: the loser of a race to delete a user, or a post, gets the 404 page."""
    one, two = cluster.apis
    user = one.add_user("staged_twice")
    post = one.add_post(one.add_user("staged_twice_post"))
    for path in (f"/users/{user}/delete", f"/posts/{post}/delete"):
        tokens = []
        for api in (one, two):  # each browser opens the confirmation page first
            status, _h, html = api.request("GET", path)
            assert status == 200, html
            tokens.append({"csrf_token": CSRF_INPUT.search(html).group(1)})
        first, second = staged(
            cluster,
            [user] if path.startswith("/users") else [],
            (one, "POST", path, None, tokens[0]),
            (two, "POST", path, None, tokens[1]),
            hold_post=None if path.startswith("/users") else post,
        )
        assert first[0] == 303, first
        assert second[0] == 404 and "Not Found" in second[2], second
    cluster.check()
