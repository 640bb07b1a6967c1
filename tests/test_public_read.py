"""READ_ACCESS=public: anonymous visitors read everything except email addresses (SPEC §11)."""

import pytest


@pytest.fixture
def public(app, anon_client, make_user):
    app.config["READ_ACCESS"] = "public"
    make_user("alice", "alice@secret.example", posts=2)
    make_user("bob", "bob@secret.example")
    return anon_client


@pytest.mark.parametrize(
    "path",
    [
        "/",
        "/users",
        "/users?sort=email",
        "/users/2",
        "/posts",
        "/stats",
        "/users.csv",
        "/posts.csv",
        "/api/users",
        "/api/users/2",
        "/api/posts",
    ],
)
def test_no_email_address_reaches_an_anonymous_reader(public, path):
    response = public.get(path)
    assert response.status_code == 200
    assert "secret.example" not in response.get_data(as_text=True)


def test_the_articles_json_list_has_no_email_for_them(public):
    response = public.get("/users", headers={"Accept": "application/json"})
    assert response.status_code == 200
    assert [set(u) for u in response.get_json()] == [{"id", "username"}] * 2


def test_search_does_not_match_emails_for_them(public, client):
    assert "alice" not in public.get("/users?q=secret").get_data(as_text=True)
    assert public.get("/api/users?q=secret").get_json()["total"] == 0
    assert len(public.get("/users.csv?q=secret").get_data(as_text=True).splitlines()) == 1
    assert "alice" in public.get("/users?q=ali").get_data(as_text=True)
    assert client.get("/api/users?q=secret").get_json()["total"] == 2  # signed in: it does


def test_sort_by_email_falls_back_to_the_default_for_them(public):
    html = public.get("/users?sort=-email").get_data(as_text=True)
    assert html.index(">alice</a>") < html.index(">bob</a>")  # by username, ascending
    assert "aria-sort" in html and "Email" not in html.split("<thead>")[1].split("</thead>")[0]


def test_pages_that_write_send_them_to_sign_in(public):
    for path in ("/users/new", "/posts/new", "/users/2/edit", "/posts/1/delete", "/account"):
        response = public.get(path)
        assert response.status_code == 303 and response.headers["Location"] == f"/login?next={path}"
    assert "Sign in" in public.get("/users").get_data(as_text=True)
    html = public.get("/users/2").get_data(as_text=True)
    assert "Edit" not in html and "Delete" not in html and "Add post" not in html


def test_a_member_sees_emails_but_no_admin_controls(app, client_for, make_account, make_user):
    mia = make_account("mia")
    make_user("alice", "alice@secret.example")
    member = client_for(mia)
    html = member.get("/users").get_data(as_text=True)
    assert "alice@secret.example" in html and "Add user" not in html
    page = member.get(f"/users/{mia}").get_data(as_text=True)
    assert "Add post" in page and "/edit" not in page
