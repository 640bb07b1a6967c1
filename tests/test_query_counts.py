"""No N+1: a list page sends the same number of SQL statements for 5 rows as for 50."""

import pytest
from sqlalchemy import event

from myapp.extensions import db


def count_statements(app, client, url):
    with app.app_context():
        engine = db.engine
    sent = []

    def record(*args):
        sent.append(args[2])

    event.listen(engine, "before_cursor_execute", record)
    try:
        assert client.get(url).status_code == 200
    finally:
        event.remove(engine, "before_cursor_execute", record)
    return len(sent)


@pytest.mark.parametrize(
    "url", ["/users", "/users?q=user", "/users?sort=-posts", "/posts", "/posts?sort=author", "/stats"]
)
def test_list_pages_do_not_query_per_row(app, client, make_user, url):
    for _ in range(5):
        make_user(posts=1)
    few = count_statements(app, client, url)
    for _ in range(45):
        make_user(posts=1)
    many = count_statements(app, client, url + ("&" if "?" in url else "?") + "per_page=50")
    assert few == many
    assert few <= 4
