"""Who may do what (SPEC §11), route by route: every route × {anonymous, member on their own row,
member on someone else's row, admin}, in both READ_ACCESS modes.

The table is the specification; test_every_route_is_in_the_table makes adding a route without a
row here fail. CSRF is off in this module only: it is about permissions, and a missing token
would answer 400 before any permission is asked (tests/test_csrf_and_errors.py keeps it on).

Statuses: 303 sends to sign-in (or is a successful form), 401 is the API's "who are you?",
403 refused, 404 not yours to see, 422 allowed but the empty body is invalid, 409 allowed but an
empty edit form carries no version (it keeps the row's values, so only the version check fails).
"""

from dataclasses import dataclass

import pytest
from sqlalchemy import func, select

from myapp.extensions import db
from myapp.models import ApiToken, HistoryEntry

from .conftest import new_token

JSON_ACCEPT = {"Accept": "application/json"}


@dataclass(frozen=True)
class Expect:
    anon: int  # anonymous, READ_ACCESS=signed-in (the default)
    public: int  # anonymous, READ_ACCESS=public
    own: int  # a member, on their own user, post or token
    other: int  # a member, on someone else's
    admin: int  # an admin (on someone else's rows)


def same(status):
    return Expect(status, status, status, status, status)


READ = Expect(anon=303, public=200, own=200, other=200, admin=200)
API_READ = Expect(anon=401, public=200, own=200, other=200, admin=200)
ADMIN_PAGE = Expect(anon=303, public=303, own=403, other=403, admin=200)

# (method, rule as in app.url_map, expected); empty form or JSON bodies.
TABLE = [
    ("GET", "/", READ),
    ("GET", "/users", READ),
    ("GET", "/users/<id:user_id>", READ),
    ("GET", "/posts", READ),
    ("GET", "/posts/<id:post_id>", READ),
    ("GET", "/stats", READ),
    ("GET", "/users.csv", API_READ),
    ("GET", "/posts.csv", API_READ),
    ("GET", "/healthz", same(200)),
    ("GET", "/static/<path:filename>", same(200)),
    ("GET", "/api/openapi.json", same(200)),
    # Guarded by METRICS_TOKEN alone, whoever asks; unset (as here), it is off: 404.
    ("GET", "/metrics", same(404)),
    # Adding and changing users is for admins; a member's own details are at /account.
    ("GET", "/users/new", ADMIN_PAGE),
    ("POST", "/users/new", Expect(303, 303, 403, 403, 422)),
    ("GET", "/add", ADMIN_PAGE),
    ("POST", "/add", Expect(303, 303, 403, 403, 422)),
    ("GET", "/users/<id:user_id>/edit", ADMIN_PAGE),
    ("POST", "/users/<id:user_id>/edit", Expect(303, 303, 403, 403, 409)),
    ("GET", "/users/<id:user_id>/delete", ADMIN_PAGE),
    ("POST", "/users/<id:user_id>/delete", Expect(303, 303, 403, 403, 303)),
    # Posts: any member adds (as themselves); only the author or an admin changes one.
    ("GET", "/posts/new", Expect(303, 303, 200, 200, 200)),
    ("POST", "/posts/new", Expect(303, 303, 422, 422, 422)),
    ("GET", "/posts/<id:post_id>/edit", Expect(303, 303, 200, 403, 200)),
    ("POST", "/posts/<id:post_id>/edit", Expect(303, 303, 409, 403, 409)),
    ("GET", "/posts/<id:post_id>/delete", Expect(303, 303, 200, 403, 200)),
    ("POST", "/posts/<id:post_id>/delete", Expect(303, 303, 303, 403, 303)),
    # Accounts.
    ("GET", "/login", same(200)),
    ("POST", "/login", same(422)),
    ("POST", "/logout", same(303)),
    ("GET", "/account", Expect(303, 303, 200, 200, 200)),
    ("POST", "/account", Expect(303, 303, 409, 409, 409)),
    ("GET", "/account/tokens", Expect(303, 303, 200, 200, 200)),
    ("POST", "/account/tokens", Expect(303, 303, 422, 422, 422)),
    # Tokens are their owner's alone: an admin cannot revoke someone else's either.
    ("POST", "/account/tokens/<id:token_id>/revoke", Expect(303, 303, 303, 404, 404)),
    # The JSON API: reads like the pages; writes need a token and the right to the row.
    ("GET", "/api/users", API_READ),
    ("GET", "/api/users/<id:user_id>", API_READ),
    ("POST", "/api/users", Expect(401, 401, 403, 403, 422)),
    ("PATCH", "/api/users/<id:user_id>", Expect(401, 401, 200, 403, 200)),
    ("DELETE", "/api/users/<id:user_id>", Expect(401, 401, 403, 403, 204)),
    ("GET", "/api/posts", API_READ),
    ("GET", "/api/posts/<id:post_id>", API_READ),
    ("POST", "/api/posts", Expect(401, 401, 422, 422, 422)),
    ("PATCH", "/api/posts/<id:post_id>", Expect(401, 401, 200, 403, 200)),
    ("DELETE", "/api/posts/<id:post_id>", Expect(401, 401, 204, 403, 204)),
    # The article's calls.
    ("POST", "/users", Expect(401, 401, 403, 403, 422)),
    # History (SPEC §13): a member sees their own account's and posts'; anonymous readers none.
    ("GET", "/users/<id:user_id>/history", Expect(303, 303, 200, 403, 200)),
    ("GET", "/posts/<id:post_id>/history", Expect(303, 303, 200, 403, 200)),
    ("GET", "/activity", Expect(303, 303, 403, 403, 200)),
    # Undo a delete: admins; the entry here is a creation, so the admin's answer is 409.
    ("POST", "/activity/<id:entry_id>/restore", Expect(303, 303, 403, 403, 409)),
    ("GET", "/api/users/<id:user_id>/history", Expect(401, 401, 200, 403, 200)),
    ("GET", "/api/posts/<id:post_id>/history", Expect(401, 401, 200, 403, 200)),
    ("GET", "/api/activity", Expect(401, 401, 403, 403, 200)),
]
# GET /users asking for JSON is the article's other call: the same rule as the page, other answers.
ARTICLE_JSON_LIST = Expect(anon=401, public=200, own=200, other=200, admin=200)
ROLES = ["anon", "public", "own", "other", "admin"]


@pytest.fixture
def world(app, make_account, make_post, client_for, admin_id):
    """Two members with a post and a token each, and the admin; a client per role."""
    mia, otto = make_account("mia"), make_account("otto")
    ids = {
        "own": {"user_id": mia, "post_id": make_post(mia, "Mia's"), "token_id": None},
        "other": {"user_id": otto, "post_id": make_post(otto, "Otto's"), "token_id": None},
    }
    new_token(app, otto, "otto's")
    app.config["WTF_CSRF_ENABLED"] = False
    member = client_for(mia)  # signed in as mia, and sending a token of hers
    with app.app_context():
        for who, user_id in (("own", mia), ("other", otto)):
            ids[who]["token_id"] = db.session.scalar(select(ApiToken.id).where(ApiToken.user_id == user_id))
            ids[who]["entry_id"] = db.session.scalar(
                select(func.min(HistoryEntry.id)).filter_by(kind="user", object_id=user_id)
            )
    return {
        "ids": ids,
        "clients": {
            "anon": app.test_client(),
            "public": app.test_client(),
            "own": member,
            "other": member,
            "admin": client_for(admin_id),
        },
    }


def path_for(rule, ids):
    path = rule
    for name, value in ids.items():
        path = path.replace(f"<id:{name}>", str(value))
    return path.replace("<path:filename>", "style.css")


def send(client, method, path):
    if path.startswith("/api/") or (method == "POST" and path == "/users"):
        body = {"json": {}} if method in ("POST", "PATCH") else {}
    else:
        body = {"data": {}} if method == "POST" else {}
    response = client.open(path, method=method, **body)
    response.close()  # static files are streamed from an open file
    return response


@pytest.mark.parametrize(("method", "rule", "expect"), TABLE, ids=[f"{m} {r}" for m, r, _ in TABLE])
def test_route_answers_each_role_as_the_table_says(app, world, method, rule, expect):
    # One world per route, the roles in turn: no role's write touches a row a later role uses
    # (a member writes their own rows, the admin, last, someone else's).
    answers, wanted = {}, {}
    for role in ROLES:
        app.config["READ_ACCESS"] = "public" if role == "public" else "signed-in"
        ids = world["ids"]["own" if role == "own" else "other"]
        response = send(world["clients"][role], method, path_for(rule, ids))
        answers[role], wanted[role] = response.status_code, getattr(expect, role)
        if response.status_code == 303 and role in ("anon", "public") and rule != "/logout":
            assert response.headers["Location"].startswith("/login?next=/"), role
        if response.status_code == 401:
            assert response.headers["WWW-Authenticate"].startswith("Bearer"), role
            assert response.get_json()["error"]["code"] == "unauthorized", role
        if response.status_code == 403 and rule.startswith("/api"):
            assert response.get_json()["error"]["code"] == "forbidden", role
    assert answers == wanted


@pytest.mark.parametrize("role", ROLES)
def test_the_article_json_list_answers_each_role(app, world, role):
    app.config["READ_ACCESS"] = "public" if role == "public" else "signed-in"
    response = world["clients"][role].get("/users", headers=JSON_ACCEPT)
    assert response.status_code == getattr(ARTICLE_JSON_LIST, role)
    assert response.content_type == "application/json"


def test_every_route_is_in_the_table(app):
    """A new route must say here who may use it."""
    routes = {
        (method, rule.rule)
        for rule in app.url_map.iter_rules()
        for method in rule.methods - {"HEAD", "OPTIONS"}
    }
    in_table = {(method, rule) for method, rule, _expect in TABLE}
    assert routes - in_table == set(), "routes missing from the permission table"
    assert in_table - routes == set(), "rows for routes that do not exist"
