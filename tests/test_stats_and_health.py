"""/stats on known data and /healthz."""

import pytest
from sqlalchemy.exc import OperationalError


def test_stats_counts_users_without_posts_as_zero(app, anon_client, make_user):
    app.config["READ_ACCESS"] = "public"  # read anonymously: no admin account among the users
    client = anon_client
    make_user("none", posts=0)
    make_user("one", posts=1)
    make_user("five", posts=5)
    html = client.get("/stats").get_data(as_text=True)
    assert "<dt>Users</dt><dd>3</dd>" in html
    assert "<dt>Posts</dt><dd>6</dd>" in html
    assert "<dt>Average posts per user</dt><dd>2.0</dd>" in html
    top = html.split('<ol class="top">')[1]
    assert top.index(">five</a>") < top.index(">one</a>")
    assert ">none</a>" not in top


def test_stats_top_ten_only(client, make_user):
    for i in range(12):
        make_user(f"writer{i:02d}", posts=i + 1)
    top = client.get("/stats").get_data(as_text=True).split('<ol class="top">')[1]
    assert top.count("<li>") == 10
    assert "writer11" in top and "writer01" not in top


def top_ten(client):
    """(username, post count) of /stats' top authors, in the page's order."""
    top = client.get("/stats").get_data(as_text=True).split('<ol class="top">')[1].split("</ol>")[0]
    return [
        (item.split('">', 1)[1].split("</a>")[0], int(item.split("— ")[1].split(" post")[0]))
        for item in top.split("<li>")[1:]
    ]


@pytest.mark.parametrize(
    "counts",
    [
        [3, 1, 3, 2, 3, 3, 1, 3, 3, 2, 3, 3, 3, 3, 1],  # the 10th place inside a tie group of 10 threes
        [1, 4, 2, 2, 4, 2, 2, 2, 2, 2, 2, 2, 2, 2],  # above the tie: 2 users; the rest by lowest id
        [0, 2, 0, 1, 2],  # fewer than ten users with posts: every one of them, none without
        [5, 4, 3, 2, 1, 1, 2, 3, 4, 5, 6, 0, 6],  # no tie at the 10th place
    ],
)
def test_stats_top_ten_breaks_ties_by_lowest_id(client, make_user, counts):
    """Most posts first, equal counts by id: the same ten, in the same order, as a plain sort."""
    users = [(make_user(f"w{i:02d}", posts=n), f"w{i:02d}", n) for i, n in enumerate(counts)]
    expected = sorted((u for u in users if u[2] > 0), key=lambda u: (-u[2], u[0]))[:10]
    assert top_ten(client) == [(name, n) for _id, name, n in expected]


def test_stats_on_an_empty_database(client):
    html = client.get("/stats").get_data(as_text=True)
    assert "<dt>Average posts per user</dt><dd>0.0</dd>" in html
    assert "No posts yet" in html


def test_healthz_ok(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json()["status"] == "ok"


def test_healthz_503_when_the_database_does_not_answer(app, client, monkeypatch):
    from myapp.extensions import db

    def fail(*args, **kwargs):
        raise OperationalError("SELECT 1", {}, Exception("unable to open database file /secret/path.db"))

    monkeypatch.setattr(db.session, "execute", fail)
    response = client.get("/healthz")
    assert response.status_code == 503
    body = response.get_json()
    assert body["status"] == "error" and "database did not answer" in body["reason"]
    assert "/secret" not in response.get_data(as_text=True)
