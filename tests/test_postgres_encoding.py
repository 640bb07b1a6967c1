"""A PostgreSQL database that is not UTF8 is refused at its first connection, with the reason
(myapp/database.py require_utf8): search and the CSV exports would be wrong in it, not fail."""

import psycopg
import pytest
from sqlalchemy.engine import make_url

from myapp.extensions import db

from .pg_servers import ON_POSTGRES, TEST_URL, drop_database, libpq_dsn
from .procs import app_env, flask

pytestmark = pytest.mark.skipif(not ON_POSTGRES, reason="a PostgreSQL server's database encodings")


@pytest.fixture(params=["LATIN1", "SQL_ASCII"])
def other_encoding(request):
    """(encoding, URL) of a scratch database in that encoding."""
    encoding = request.param
    url = make_url(TEST_URL)
    url = url.set(database=f"{url.database}_{encoding.lower()}").render_as_string(hide_password=False)
    drop_database(url)
    with psycopg.connect(libpq_dsn(url, "postgres"), autocommit=True) as conn:
        conn.execute(
            f"CREATE DATABASE \"{make_url(url).database}\" ENCODING '{encoding}'"
            " LC_COLLATE 'C' LC_CTYPE 'C' TEMPLATE template0"
        )
    yield encoding, url
    drop_database(url)


def test_a_database_not_in_utf8_is_refused_with_the_reason(other_encoding, tmp_path):
    encoding, url = other_encoding
    env = app_env(tmp_path / "unused.db", tmp_path / "instance")
    env["DATABASE_URL"] = url
    result = flask(env, "db", "upgrade")
    assert result.returncode != 0
    assert f"encoding is {encoding}; this app needs UTF8" in result.stderr
    with psycopg.connect(libpq_dsn(url)) as conn:
        # Refused before the first migration made anything.
        assert conn.execute("SELECT to_regclass('users')").fetchone() == (None,)


def test_the_test_database_is_utf8_and_accepted(app):
    with app.app_context():
        assert db.session.connection().exec_driver_sql("SHOW server_encoding").scalar() == "UTF8"
