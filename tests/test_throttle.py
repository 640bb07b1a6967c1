"""Brute-force limits on sign-in (SPEC §11): 5 failures an account, 50 an address, 15 minutes;
kept in the database, so they hold across gunicorn's workers."""

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from myapp.extensions import db
from myapp.models import SignInFailure

from .conftest import CSRF_INPUT, csrf_token, password_for, sqlite_only
from .http_client import FormClient
from .procs import Gunicorn, app_env, create_admin, migrated_database

WRONG = "definitely not the password"


def attempt(client, username, password, address="203.0.113.7"):
    url = "/login"
    data = {"username": username, "password": password, "csrf_token": csrf_token(client, url)}
    return client.post(url, data=data, environ_base={"REMOTE_ADDR": address})


def failures(app):
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(SignInFailure))


def test_the_sixth_attempt_is_refused_even_with_the_right_password(app, anon_client, make_account):
    make_account("mia")
    for _ in range(5):
        assert attempt(anon_client, "mia", WRONG).status_code == 401
    refused = attempt(anon_client, "mia", password_for("mia"))
    assert refused.status_code == 429
    assert 0 < int(refused.headers["Retry-After"]) <= 15 * 60
    assert "Too many failed sign-ins" in refused.get_data(as_text=True)
    with anon_client.session_transaction() as session:
        assert "_user_id" not in session


def test_the_account_is_what_was_typed_folded_to_lower_case(anon_client, make_account):
    make_account("mia")
    for typed in ("MIA", "Mia", "mia", "mIa", "miA"):
        assert attempt(anon_client, typed, WRONG).status_code == 401
    assert attempt(anon_client, "mia", password_for("mia")).status_code == 429
    # The email is another thing typed, counted on its own.
    assert attempt(anon_client, "mia@example.com", password_for("mia")).status_code == 303


def test_unknown_accounts_are_limited_too(anon_client):
    for _ in range(5):
        assert attempt(anon_client, "ghost", WRONG).status_code == 401
    assert attempt(anon_client, "ghost", WRONG).status_code == 429


def test_refused_attempts_do_not_extend_the_lock(app, anon_client, make_account):
    make_account("mia")
    for _ in range(5):
        attempt(anon_client, "mia", WRONG)
    first = int(attempt(anon_client, "mia", WRONG).headers["Retry-After"])
    for _ in range(3):
        assert attempt(anon_client, "mia", WRONG).status_code == 429
    assert failures(app) == 10  # 5 for the account and 5 for the address: no more
    assert int(attempt(anon_client, "mia", WRONG).headers["Retry-After"]) <= first


def test_the_lock_ends_when_the_window_has_passed(app, anon_client, make_account):
    make_account("mia")
    for _ in range(5):
        attempt(anon_client, "mia", WRONG)
    assert attempt(anon_client, "mia", password_for("mia")).status_code == 429
    with app.app_context():  # sixteen minutes later
        for row in db.session.scalars(select(SignInFailure)):
            row.failed_at -= timedelta(minutes=16)
        db.session.commit()
    assert attempt(anon_client, "mia", password_for("mia")).status_code == 303


def test_a_successful_sign_in_clears_the_accounts_count(app, anon_client, make_account):
    make_account("mia")
    for _ in range(4):
        attempt(anon_client, "mia", WRONG)
    assert attempt(anon_client, "mia", password_for("mia")).status_code == 303
    for _ in range(4):
        assert attempt(anon_client, "mia", WRONG).status_code == 401
    assert attempt(anon_client, "mia", password_for("mia")).status_code == 303


def test_fifty_failures_from_one_address_lock_it_for_every_account(app, anon_client, make_account):
    make_account("mia")
    for n in range(50):
        assert attempt(anon_client, f"guess{n}", WRONG).status_code == 401
    assert attempt(anon_client, "mia", password_for("mia")).status_code == 429
    assert attempt(anon_client, "mia", password_for("mia"), address="198.51.100.9").status_code == 303


def login_form(server):
    """A new client (connection, cookie, CSRF token) at the sign-in page."""
    browser = FormClient(server.address)
    _status, _headers, html = browser.get("/login")
    return browser, CSRF_INPUT.search(html).group(1)


def sign_in_at_once(server, n, username, password):
    """n clients, each on its own connection, post the sign-in form at the same moment: statuses."""
    forms = [login_form(server) for _ in range(n)]
    barrier = threading.Barrier(n)

    def attempt(browser, token):
        barrier.wait(timeout=30)
        form = {"username": username, "password": password, "csrf_token": token}
        return browser.request("POST", "/login", form)[0]

    with ThreadPoolExecutor(n) as pool:
        return list(pool.map(lambda pair: attempt(*pair), forms))


@sqlite_only
@pytest.mark.slow
def test_the_limit_holds_across_four_gunicorn_workers(tmp_path):
    """Ten wrong attempts at once, spread over the workers: exactly five are checked, the rest
    refused; then the right password is refused too, whichever worker takes it."""
    db_path = migrated_database(tmp_path)
    # The access log names the worker (pid) that answered each request.
    env = app_env(
        db_path,
        tmp_path / "instance",
        GUNICORN_CMD_ARGS="--access-logfile - --access-logformat '%(p)s %(r)s %(s)s'",
    )
    username, password = create_admin(env)
    server = Gunicorn(env, tmp_path / "gunicorn.log", workers=4)
    try:
        # Eight right sign-ins at once are not mistaken for failures while they are checked.
        signed_in = sign_in_at_once(server, 8, username, password)
        answers = sorted(sign_in_at_once(server, 10, username, WRONG))
        browser, token = login_form(server)
        form = {"username": username, "password": password, "csrf_token": token}
        status, headers, _body = browser.request("POST", "/login", form)
        log = server.text()
    finally:
        server.stop()
    assert signed_in == [303] * 8
    assert answers == [401] * 5 + [429] * 5
    assert status == 429 and int(headers["Retry-After"]) > 0
    workers = {line.split()[0] for line in log.splitlines() if "POST /login" in line}
    assert len(workers) >= 2, log[-2000:]
