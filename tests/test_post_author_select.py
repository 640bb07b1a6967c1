"""The add-post form lists the users as authors (a regression: SQLAlchemy rows rendered no options)."""


def test_new_post_form_lists_every_author_and_preselects_one(client, make_user):
    ada = make_user("ada")
    make_user("bob")
    response = client.get(f"/posts/new?user={ada}")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert f'<option selected value="{ada}">ada</option>' in html
    assert ">bob</option>" in html


def test_past_the_select_limit_the_author_is_an_id_that_works(app, client, submit, fetch):
    """501 users: too many to list, so the form asks for the author's id (it used to render an
    empty select that refused every submission)."""
    from sqlalchemy import select

    from myapp.extensions import db
    from myapp.models import Post, User

    with app.app_context():  # 500 and the admin
        db.session.add_all(User(username=f"many{n:03}", email=f"many{n:03}@example.com") for n in range(500))
        db.session.commit()
        author = db.session.scalar(select(User.id).where(User.username == "many250"))
    html = client.get(f"/posts/new?user={author}").get_data(as_text=True)
    assert "<select" not in html
    assert f'type="number" inputmode="numeric" min="1" id="user_id" name="user_id" value="{author}"' in html
    response = submit(f"/posts/new?user={author}", {"title": "By id", "body": "", "user_id": str(author)})
    assert response.status_code == 303
    assert fetch(select(Post.user_id).where(Post.title == "By id")) == [(author,)]
    bad = submit("/posts/new", {"title": "Nobody's", "body": "", "user_id": "999999"})
    assert bad.status_code == 422 and "Choose an existing user." in bad.get_data(as_text=True)
