"""PostgreSQL's trigram index is asked only for the selective part of a term (myapp/search/
trigrams.py), and the whole term is tested on each row: the rows must be exactly the plain ones."""

import pytest
from sqlalchemy import func, select, text

from myapp.extensions import db
from myapp.models import User
from myapp.search import trigrams

from .conftest import ON_POSTGRES
from .test_search import bulk_users


@pytest.mark.parametrize(
    ("term", "common", "part"),
    [
        ("user123456", {"use", "ser", "er1"}, "r123456"),
        ("user123456", set(), "user123456"),  # nothing common: the whole term
        ("user", {"use", "ser"}, "user"),  # every trigram common: the whole term, read in full
        ("USer12", {"use", "ser", "er1"}, "r12"),  # lowercased as pg_trgm does; the term keeps its case
        ("ab cdef-gh", {"cde"}, "def"),  # trigrams never cross a space or a dash
        ("a%b_c\\d", set(), "a%b_c\\d"),  # no trigram of letters or digits: the whole term
        ("xxyy12zz", {"y12"}, "xxyy1"),  # the longer of the two sides of a common trigram
    ],
)
def test_the_part_asked_of_the_index_is_the_longest_without_a_common_trigram(term, common, part):
    assert trigrams.selective_part(term, frozenset(common)) == part


postgres_only = pytest.mark.skipif(not ON_POSTGRES, reason="the trigram index is PostgreSQL's")


@postgres_only
def test_common_trigrams_come_from_the_rows(app, monkeypatch):
    bulk_users(app, "user", 60)
    bulk_users(app, "zebra", 2)
    monkeypatch.setattr(trigrams, "SMALL_TABLE", 1)  # the sample is then the whole table
    monkeypatch.setattr(trigrams, "_kept", {})
    with app.app_context():
        db.session.execute(text("ANALYZE users"))  # reltuples, the table's size
        common = trigrams.common_trigrams(User.username)
    assert {"use", "ser", "er0"} <= common and not {"zeb", "ebr"} & common


@postgres_only
@pytest.mark.parametrize("term", ["user0012", "ser0012", "USER0012", "er001", "xuser0", "user00%", "sera"])
def test_a_search_by_the_selective_part_finds_the_rows_a_plain_scan_would(app, client, monkeypatch, term):
    bulk_users(app, "user", 120)
    bulk_users(app, "xuser", 3)
    bulk_users(app, "serab", 2)
    bulk_users(app, "zr", 20)  # zr0012 holds the part r0012 of user0012, not the term
    # "use", "ser" and "er0" in every name: the index is asked for the digits only.
    monkeypatch.setattr(trigrams, "common_trigrams", lambda column: frozenset({"use", "ser", "er0"}))
    body = client.get(f"/api/users?q={term.replace('%', '%25')}&per_page=100").get_json()
    with app.app_context():
        pattern = "%" + term.replace("%", "\\%") + "%"
        stmt = select(User.username).where(User.username.ilike(pattern) | User.email.ilike(pattern))
        expected = db.session.scalars(stmt.order_by(func.lower(User.username), User.id)).all()
    assert [u["username"] for u in body["items"]] == expected
    assert body["total"] == len(expected)
