"""Signing in and out."""

import time
from urllib.parse import urlsplit

from flask import abort, current_app, redirect, render_template, request, session, url_for
from flask_login import login_user, logout_user
from sqlalchemy import func, or_, select

from ..extensions import db
from ..forms import EmptyForm
from ..history.writer import recorded_as
from ..models import User
from ..observability import record_sign_in_failure, record_throttled
from ..transactions import commit
from . import bp, throttle
from .forms import LoginForm
from .passwords import check_password

WRONG_PAIR = "That username or email and password do not match an account."
# How long an attempt waits for others on the same account to be checked before it is refused.
BUSY_WAIT_SECONDS = 5


@bp.before_request
def no_accounts_in_snapshot_mode():
    # A snapshot serves everyone the same read-only pages; there is nothing to sign in to.
    if current_app.config["READ_ONLY"]:
        abort(404)


@bp.route("/login", methods=["GET", "POST"])
def login():
    """Sign in with a username or email and a password."""
    form = LoginForm()
    if not form.validate_on_submit():
        status = 422 if form.is_submitted() else 200
        return render_template("auth/login.html", form=form, no_admin=not admin_exists()), status
    typed = throttle.account_key(form.username.data)
    try:
        reservation = reserve_a_place(typed)
    except throttle.Refused as refused:
        db.session.rollback()
        record_throttled()
        message = "Too many failed sign-ins. Wait a while and try again."
        form.form_errors.append(message)
        headers = {"Retry-After": str(refused.retry_after)}
        return render_template("auth/login.html", form=form), 429, headers
    user = db.session.scalar(
        select(User).where(or_(func.lower(User.username) == typed, func.lower(User.email) == typed))
    )
    # The failure is on record before the slow hash check, and no transaction stays open over it.
    commit()
    matches, new_hash = check_password(user.password_hash if user else None, form.password.data)
    if not matches:
        throttle.settle(reservation)
        commit()
        record_sign_in_failure()
        form.form_errors.append(WRONG_PAIR)
        return render_template("auth/login.html", form=form), 401
    throttle.release(reservation)
    if new_hash:  # Argon2 parameters changed since this hash was made
        user.password_hash = new_hash
        recorded_as(db.session, user, "password re-hashed with new parameters at sign-in")
    commit()
    start_session(user)
    return redirect(safe_next(request.args.get("next")), 303)


@bp.post("/logout")
def logout():
    """Sign out (a POST with a CSRF token: a link or an image cannot sign anyone out)."""
    form = EmptyForm()
    if form.validate_on_submit():
        logout_user()
        session.clear()
    return redirect(url_for("auth.login"), 303)


def reserve_a_place(typed):
    """throttle.reserve, waiting while other attempts on this account (or address) are checked."""
    deadline = time.monotonic() + BUSY_WAIT_SECONDS
    while True:
        try:
            return throttle.reserve(typed, request.remote_addr)
        except throttle.Busy:
            db.session.rollback()
            if time.monotonic() > deadline:
                raise throttle.Refused(1) from None
            time.sleep(0.05)


def start_session(user):
    """A fresh session for user: nothing from before sign-in (or from another account) carries over."""
    session.clear()
    login_user(user)


def safe_next(target):
    """Where to go after sign-in: a path on this site, else the home page."""
    home = request.script_root + "/"
    if not target or not target.startswith("/") or target.startswith(("//", "/\\")):
        return home
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or any(ord(c) < 32 or c == "\\" for c in target):
        return home
    return target


def admin_exists():
    return db.session.scalar(select(User.id).where(User.role == "admin").limit(1)) is not None
