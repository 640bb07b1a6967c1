"""flask create-admin and flask create-token: the operator's way in, with no password on the
command line and none in any log."""

import sys

import click
from flask.cli import with_appcontext
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from .. import rules
from ..auth import tokens
from ..auth.passwords import hash_password
from ..database import write_intent
from ..extensions import db
from ..models import User


@click.command("create-admin")
@click.argument("username")
@click.argument("email")
@click.option("--password-stdin", is_flag=True, help="Read the password from one line of standard input.")
@with_appcontext
def create_admin(username, email, password_stdin):
    """Make USERNAME an admin with a new password, adding the user (with EMAIL) if need be."""
    try:
        username, email = rules.username(username), rules.email(email)
    except rules.Invalid as error:
        raise click.ClickException(str(error)) from None
    password = read_password(password_stdin)
    try:
        rules.password(password, username=username, email=email)
    except rules.Invalid as error:
        raise click.ClickException(f"password: {error}") from None
    with write_intent():
        user = db.session.scalar(select(User).where(func.lower(User.username) == username.lower()))
        created = user is None
        if created:
            user = User(username=username, email=email)
            db.session.add(user)
        # A new hash signs out every session the account had.
        user.password_hash, user.role = hash_password(password), "admin"
        try:
            db.session.commit()
        except IntegrityError:
            db.session.rollback()
            raise click.ClickException(f"the email address {email} belongs to another user.") from None
    if created:
        click.echo(f"Created admin {user.username} ({user.email}). Sign in at /login.")
    else:
        click.echo(
            f"{user.username} is now an admin with the new password; their other sessions are signed out."
        )


def stdin_is_terminal():
    return sys.stdin.isatty()


def read_password(from_stdin):
    if from_stdin:
        line = sys.stdin.readline()
        return line[:-1] if line.endswith("\n") else line
    if not stdin_is_terminal():
        raise click.ClickException(
            "no terminal to ask for the password on; pipe it in with --password-stdin."
        )
    return click.prompt("Password", hide_input=True, confirmation_prompt="Repeat the password")


@click.command("create-token")
@click.argument("username")
@click.option("--name", default="command line", show_default=True, help="What the token is for.")
@click.option("--expires-days", type=click.IntRange(1, 3650), help="Expire after this many days.")
@with_appcontext
def create_token(username, name, expires_days):
    """Print a new API token for USERNAME (shown once; only its digest is kept)."""
    try:
        name = rules.token_name(name)
    except rules.Invalid as error:
        raise click.ClickException(f"--name: {error}") from None
    with write_intent():
        user = db.session.scalar(select(User).where(func.lower(User.username) == username.lower()))
        if user is None:
            raise click.ClickException(f"there is no user {username}.")
        _row, token = tokens.issue(user, name, expires_days)
        db.session.commit()
    click.echo(token)
