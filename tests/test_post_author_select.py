"""The add-post form lists the users as authors (a regression: SQLAlchemy rows rendered no options)."""


def test_new_post_form_lists_every_author_and_preselects_one(client, make_user):
    ada = make_user("ada")
    make_user("bob")
    response = client.get(f"/posts/new?user={ada}")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert f'<option selected value="{ada}">ada</option>' in html
    assert ">bob</option>" in html
