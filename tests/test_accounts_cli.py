"""flask create-admin and flask create-token, as an operator runs them."""

from sqlalchemy import select

from myapp.auth.passwords import check_password
from myapp.auth.tokens import PREFIX, digest
from myapp.extensions import db
from myapp.models import ApiToken, User

PASSWORD = "the operator's passphrase"


def admin_row(app, username):
    with app.app_context():
        return db.session.scalar(select(User).where(User.username == username))


def has_password(app, user, password):
    with app.app_context():
        return check_password(user.password_hash, password)[0]


def test_create_admin_reads_the_password_from_stdin(app, runner, anon_client):
    result = runner.invoke(
        args=["create-admin", "boss", "boss@example.com", "--password-stdin"], input=PASSWORD + "\n"
    )
    assert result.exit_code == 0, result.output
    assert "Created admin boss" in result.output and PASSWORD not in result.output
    user = admin_row(app, "boss")
    assert user.role == "admin" and has_password(app, user, PASSWORD)


def test_create_admin_on_an_existing_user_sets_the_password_and_role(app, runner, make_user):
    make_user("worker", "worker@example.com")
    result = runner.invoke(
        args=["create-admin", "WORKER", "other@example.com", "--password-stdin"], input=PASSWORD
    )
    assert result.exit_code == 0, result.output
    user = admin_row(app, "worker")
    assert (user.role, user.email) == ("admin", "worker@example.com")
    assert has_password(app, user, PASSWORD)


def test_create_admin_asks_twice_on_a_terminal(app, runner, monkeypatch):
    monkeypatch.setattr("myapp.commands.accounts.stdin_is_terminal", lambda: True)
    result = runner.invoke(
        args=["create-admin", "boss", "boss@example.com"], input=f"{PASSWORD}\n{PASSWORD}\n"
    )
    assert result.exit_code == 0, result.output
    assert "Repeat the password" in result.output and PASSWORD not in result.output


def test_create_admin_refuses_a_weak_password_or_no_terminal(app, runner):
    result = runner.invoke(
        args=["create-admin", "boss", "boss@example.com", "--password-stdin"], input="short\n"
    )
    assert result.exit_code == 1 and "at least 12 characters" in result.output
    result = runner.invoke(args=["create-admin", "boss", "boss@example.com"], input="")
    assert result.exit_code == 1 and "--password-stdin" in result.output
    result = runner.invoke(args=["create-admin", "b", "boss@example.com", "--password-stdin"], input=PASSWORD)
    assert result.exit_code == 1 and "3 to 80" in result.output
    assert admin_row(app, "boss") is None


def test_create_admin_refuses_an_email_someone_else_has(app, runner, make_user):
    make_user("owner", "taken@example.com")
    result = runner.invoke(
        args=["create-admin", "boss", "TAKEN@example.com", "--password-stdin"], input=PASSWORD
    )
    assert result.exit_code == 1 and "belongs to another user" in result.output


def test_create_token_prints_a_token_that_works(app, runner, make_user):
    make_user("bot")
    result = runner.invoke(args=["create-token", "bot", "--name", "nightly", "--expires-days", "30"])
    assert result.exit_code == 0, result.output
    token = result.output.strip()
    assert token.startswith(PREFIX)
    with app.app_context():
        row = db.session.scalar(select(ApiToken).where(ApiToken.digest == digest(token)))
        assert row.name == "nightly" and row.expires_at is not None
    response = app.test_client().get("/api/users", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200


def test_create_token_for_nobody_fails(runner):
    result = runner.invoke(args=["create-token", "nobody"])
    assert result.exit_code == 1 and "there is no user nobody" in result.output
