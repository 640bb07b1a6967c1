"""The add-post form lists the users as authors (a regression: SQLAlchemy rows rendered no options)."""


def test_new_post_form_lists_every_author_and_preselects_one(client, make_user):
    ada = make_user("ada")
    make_user("bob")
    response = client.get(f"/posts/new?user={ada}")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert f'<option selected value="{ada}">ada</option>' in html
    assert ">bob</option>" in html


def test_past_the_select_limit_the_author_is_typed_by_name_or_id(app, client, submit, fetch):
    """501 users: too many to list, so the author is typed — a username, or an id (it used to
    render an empty select that refused every submission)."""
    from sqlalchemy import select

    from myapp.extensions import db
    from myapp.models import Post, User

    with app.app_context():  # 500, a user named like an id, and the admin
        db.session.add_all(User(username=f"many{n:03}", email=f"many{n:03}@example.com") for n in range(499))
        db.session.add(User(username="250", email="digits@example.com"))
        db.session.commit()
        author = db.session.scalar(select(User.id).where(User.username == "many250"))
        digits = db.session.scalar(select(User.id).where(User.username == "250"))
    html = client.get(f"/posts/new?user={author}").get_data(as_text=True)
    assert "<select" not in html
    assert 'type="text" id="user_id" name="user_id" value="many250"' in html  # the name, not a number
    assert "The author&#39;s username, or their id" in html

    by_id = submit(f"/posts/new?user={author}", {"title": "By id", "body": "", "user_id": str(author)})
    assert by_id.status_code == 303
    by_name = submit("/posts/new", {"title": "By name", "body": "", "user_id": "  MANY250 "})
    assert by_name.status_code == 303
    named_like_an_id = submit("/posts/new", {"title": "By 250", "body": "", "user_id": "250"})
    assert named_like_an_id.status_code == 303  # a username wins over an id
    assert fetch(select(Post.title, Post.user_id).order_by(Post.id)) == [
        ("By id", author),
        ("By name", author),
        ("By 250", digits),
    ]
    for typed in ("999999", "nobody", ""):
        bad = submit("/posts/new", {"title": "Nobody's", "body": "", "user_id": typed})
        assert bad.status_code == 422 and "Choose an existing user." in bad.get_data(as_text=True)
        assert f'value="{typed}"' in bad.get_data(as_text=True)  # what was typed stays


def test_past_the_limit_editing_shows_and_changes_the_author_by_name(app, client, submit, fetch, make_user):
    from sqlalchemy import select

    from myapp.models import Post

    app.config["AUTHOR_SELECT_LIMIT"] = 2
    ada, bob = make_user("ada"), make_user("bob")
    created = submit("/posts/new", {"title": "Moving", "body": "", "user_id": "ada"})
    post_id = int(created.headers["Location"].rsplit("/", 1)[1])
    html = client.get(f"/posts/{post_id}/edit").get_data(as_text=True)
    assert 'type="text" id="user_id" name="user_id" value="ada"' in html
    form = {"title": "Moving", "body": "", "user_id": "Bob", "version": "1"}
    assert submit(f"/posts/{post_id}/edit", form).status_code == 303
    assert fetch(select(Post.user_id).where(Post.id == post_id)) == [(bob,)]
    assert ada != bob
