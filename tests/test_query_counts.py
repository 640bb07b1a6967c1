"""No N+1: a list page sends the same number of SQL statements for 5 rows as for 50."""

from collections import Counter

import pytest
from sqlalchemy import event

from myapp.extensions import db


def count_statements(app, client, url):
    return len(statements(app, client, url))


def statements(app, client, url):
    """The SQL a GET of url sends."""
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
    return sent


@pytest.mark.parametrize(
    "url", ["/users", "/users?q=user", "/users?sort=-posts", "/posts", "/posts?sort=author", "/stats"]
)
def test_list_pages_do_not_query_per_row(app, client, make_user, url):
    for _ in range(5):
        make_user(posts=1)
    # Once per process (and hour), a PostgreSQL search first samples the table's common trigrams
    # (myapp/search/trigrams.py): not a per-request cost, so out of the count.
    count_statements(app, client, url)
    few = count_statements(app, client, url)
    for _ in range(45):
        make_user(posts=1)
    many = count_statements(app, client, url + ("&" if "?" in url else "?") + "per_page=50")
    assert few == many
    assert few <= 5  # the page's own, and the data version's for its ETag (myapp/conditional/)


@pytest.mark.parametrize("url", ["/users", "/posts", "/users/2", "/stats"])
def test_signing_in_costs_one_primary_key_query(app, client, anon_client, make_user, url):
    """The signed-in account is loaded by its id, once; nothing else is added to a page."""
    make_user(posts=2)
    app.config["READ_ACCESS"] = "public"
    anonymous = statements(app, anon_client, url)
    client.environ_base.pop("HTTP_AUTHORIZATION")  # the page as a browser reads it: the session
    signed_in = statements(app, client, url)
    extra = list((Counter(signed_in) - Counter(anonymous)).elements())
    assert len(signed_in) == len(anonymous) + 1
    assert len(extra) == 1 and extra[0].startswith("SELECT users.") and "WHERE users.id = " in extra[0]
