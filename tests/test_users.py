"""Users pages: list, add, show, edit, delete, as a person does them through the forms."""

import pytest
from sqlalchemy import func, select

from myapp.models import Post, User

from .conftest import NOT_ADMIN, flashed


@pytest.mark.parametrize("path", ["/users/new", "/add"])
def test_add_user_redirects_to_the_user_and_stores_it(client, submit, find_user, path):
    response = submit(path, {"username": "  Alice  ", "email": "alice@example.com"})
    assert response.status_code == 303
    user = find_user("Alice")
    assert user is not None and user.email == "alice@example.com"
    assert response.headers["Location"] == f"/users/{user.id}"
    assert flashed(client) == ["User Alice was added."]
    assert "Alice" in client.get(response.headers["Location"]).get_data(as_text=True)


def test_new_user_form_renders(client):
    response = client.get("/users/new")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert 'name="username"' in html and 'name="email"' in html and 'name="csrf_token"' in html


def test_list_shows_users_with_post_counts(client, make_user):
    make_user("alice", posts=3)
    make_user("bob")
    html = client.get("/users").get_data(as_text=True)
    assert "alice" in html and "bob" in html
    assert '<td data-label="Posts" class="num">3</td>' in html
    assert '<td data-label="Posts" class="num">0</td>' in html


def test_root_is_the_users_list(client, make_user):
    make_user("alice")
    response = client.get("/")
    assert response.status_code == 200
    assert "alice" in response.get_data(as_text=True)


def test_empty_list_says_so(app, anon_client):
    app.config["READ_ACCESS"] = "public"  # the only way to see a list with no users at all
    assert "No users yet" in anon_client.get("/users").get_data(as_text=True)


def test_search_matches_username_or_email_substring(client, make_user):
    make_user("alice", "a@one.example")
    make_user("bob", "bob@two.example")
    make_user("carol", "carol@one.example")
    html = client.get("/users?q=one.ex").get_data(as_text=True)
    assert "alice" in html and "carol" in html and "bob" not in html
    html = client.get("/users?q=BO").get_data(as_text=True)
    assert "bob" in html and "alice" not in html


def test_search_treats_like_wildcards_literally(client, make_user):
    make_user("a_b")
    make_user("axb")
    html = client.get("/users?q=a_b").get_data(as_text=True)
    assert "a_b" in html and "axb" not in html


@pytest.mark.parametrize(
    ("sort", "expected"),
    [
        ("username", ["amy", "Bea", "cal"]),
        ("-username", ["cal", "Bea", "amy"]),
        ("posts", ["cal", "amy", "Bea"]),
        ("-posts", ["Bea", "amy", "cal"]),
        ("created", ["cal", "Bea", "amy"]),
        ("-created", ["amy", "Bea", "cal"]),
        ("email", ["Bea", "amy", "cal"]),
    ],
)
def test_sort_orders(client, make_user, sort, expected):
    make_user("cal", "z1@example.com", posts=0)
    make_user("Bea", "a1@example.com", posts=2)
    make_user("amy", "m1@example.com", posts=1)
    html = client.get(f"/users?sort={sort}").get_data(as_text=True)
    positions = [html.index(f">{name}</a>") for name in expected]
    assert positions == sorted(positions)


def test_pages_of_users(app, anon_client, make_user):
    app.config["READ_ACCESS"] = "public"  # no admin among the users, so the pages are exactly these
    client = anon_client
    for i in range(25):
        make_user(f"user{i:02d}")
    page1 = client.get("/users").get_data(as_text=True)
    page2 = client.get("/users?page=2").get_data(as_text=True)
    assert "user19" in page1 and "user20" not in page1
    assert "user20" in page2 and "user24" in page2 and "user00" not in page2
    assert "Page 2 of 2" in page2
    small = client.get("/users?per_page=5&page=5").get_data(as_text=True)
    assert "user20" in small and "user19" not in small


def test_page_past_the_end_is_empty_with_a_way_back(client, make_user):
    make_user("alice")
    response = client.get("/users?page=7")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "There is no page 7" in html and "alice" not in html
    assert 'href="/users?page=1"' in html or 'href="/users"' in html


@pytest.mark.parametrize(
    "query",
    [
        "page=abc",
        "page=-1",
        "page=0",
        "per_page=x",
        "per_page=0",
        "sort=bogus",
        "sort=--username",
        "page=99999999999999999999999",
        "per_page=1e3",
    ],
)
def test_odd_list_parameters_fall_back_to_defaults(client, make_user, query):
    make_user("alice")
    response = client.get(f"/users?{query}")
    assert response.status_code == 200
    assert "alice" in response.get_data(as_text=True) or "There is no page" in response.get_data(as_text=True)


def test_per_page_is_capped_at_100(client, make_user, app):
    with app.app_context():
        from myapp.extensions import db

        db.session.add_all(User(username=f"u{i:03d}", email=f"u{i}@example.com") for i in range(120))
        db.session.commit()
    html = client.get("/users?per_page=1000").get_data(as_text=True)
    assert html.count('data-label="Username"') == 100


def test_show_user_lists_posts_newest_first(client, make_user, make_post):
    user_id = make_user("alice")
    make_post(user_id, "First post")
    make_post(user_id, "Second post")
    html = client.get(f"/users/{user_id}").get_data(as_text=True)
    assert html.index("Second post") < html.index("First post")


def test_edit_user_saves_and_redirects(client, submit, make_user, get_user):
    user_id = make_user("alice")
    url = f"/users/{user_id}/edit"
    response = submit(url, {"username": "alicia", "email": "alicia@example.com", "version": "1"})
    assert response.status_code == 303
    assert response.headers["Location"] == f"/users/{user_id}"
    user = get_user(user_id)
    assert (user.username, user.email, user.version) == ("alicia", "alicia@example.com", 2)
    assert user.updated_at >= user.created_at
    assert flashed(client) == ["User alicia was saved."]


def test_user_may_keep_their_own_name_in_another_case(client, submit, make_user, get_user):
    user_id = make_user("alice")
    response = submit(
        f"/users/{user_id}/edit", {"username": "ALICE", "email": "alice@example.com", "version": "1"}
    )
    assert response.status_code == 303
    assert get_user(user_id).username == "ALICE"


def test_delete_asks_first_and_names_the_posts(client, make_user):
    user_id = make_user("alice", posts=12)
    response = client.get(f"/users/{user_id}/delete")
    assert response.status_code == 200
    assert "and their 12 posts" in response.get_data(as_text=True)


def test_delete_removes_the_user_and_their_posts(client, submit, make_user, fetch):
    user_id = make_user("alice", posts=3)
    other = make_user("bob", posts=2)
    response = submit(f"/users/{user_id}/delete", {})
    assert response.status_code == 303
    assert response.headers["Location"] == "/users"
    assert flashed(client) == ["User alice and their 3 posts were deleted."]
    assert fetch(select(User.id).where(NOT_ADMIN)) == [(other,)]
    assert fetch(select(func.count()).select_from(Post)) == [(2,)]
    assert client.get(f"/users/{user_id}").status_code == 404
    html = client.get("/stats").get_data(as_text=True)
    # bob and the signed-in admin are left, with bob's 2 posts.
    assert "<dt>Users</dt><dd>2</dd>" in html and "<dt>Posts</dt><dd>2</dd>" in html


def test_deleting_a_user_without_posts_says_just_that(client, submit, make_user):
    user_id = make_user("loner")
    assert "they have no posts" in client.get(f"/users/{user_id}/delete").get_data(as_text=True)
    assert submit(f"/users/{user_id}/delete", {}).status_code == 303
    assert flashed(client) == ["User loner was deleted."]


def test_links_to_the_add_form_use_users_new(client):
    assert 'href="/users/new"' in client.get("/users").get_data(as_text=True)


def test_get_never_deletes(client, make_user, get_user):
    user_id = make_user("alice")
    client.get(f"/users/{user_id}/delete")
    assert get_user(user_id) is not None
