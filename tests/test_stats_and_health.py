"""/stats on known data and /healthz."""

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
