"""/account: a signed-in person's own details, password and API tokens."""

from flask import abort, flash, redirect, render_template, url_for
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError

from ..extensions import db
from ..forms import EmptyForm
from ..models import ApiToken
from ..transactions import commit
from ..types import now_utc
from ..users.forms import add_taken_error
from . import bp
from . import tokens as api_tokens
from .forms import AccountForm, TokenForm
from .passwords import check_password, hash_password
from .permissions import may_use_account, require
from .views import start_session


@bp.route("/account", methods=["GET", "POST"])
def account():
    """Change your own username, email or password."""
    require(may_use_account())
    user = current_user._get_current_object()
    form = AccountForm(obj=user, user_id=user.id)
    if not form.validate_on_submit():
        return render_account(form, 422 if form.is_submitted() else 200)
    if form.is_stale(user):
        form.form_errors.append(
            "Your account was changed elsewhere since you opened this page; check and save again."
        )
        form.version.data = str(user.version)
        return render_account(form, 409)
    if form.new_password.data:
        matches, _ = check_password(user.password_hash, form.current_password.data or "")
        if not matches:
            form.current_password.errors = ["That is not your current password."]
            return render_account(form, 422)
        user.password_hash = hash_password(form.new_password.data)
    user.username, user.email = form.username.data, form.email.data
    try:
        commit()
    except IntegrityError as error:
        db.session.rollback()
        if not add_taken_error(form, error):
            raise
        return render_account(form, 422)
    except StaleDataError:
        db.session.rollback()
        form.form_errors.append(
            "Your account was changed elsewhere since you opened this page; check and save again."
        )
        return render_account(form, 409)
    if form.new_password.data:
        # The new hash signs out every other session of this account; this one starts afresh.
        start_session(user)
        flash("Your password was changed; other sessions of your account were signed out.", "success")
    else:
        flash("Your account was saved.", "success")
    return redirect(url_for("auth.account"), 303)


def render_account(form, status):
    form.current_password.data = form.new_password.data = ""  # never echo a password back
    return render_template("auth/account.html", form=form), status


@bp.route("/account/tokens", methods=["GET", "POST"])
def tokens():
    """Your API tokens: create one (shown once), see when each was used, revoke."""
    require(may_use_account())
    form = TokenForm()
    new_token = None
    status = 200
    if form.validate_on_submit():
        _row, new_token = api_tokens.issue(current_user, form.name.data, form.expires_days.data)
        commit()
        status = 201
        form = TokenForm(formdata=None)
    elif form.is_submitted():
        status = 422
    # Shown in the page, never flashed: a flash would travel in the (signed, not encrypted) cookie.
    rows = db.session.scalars(
        select(ApiToken).where(ApiToken.user_id == current_user.id).order_by(ApiToken.id.desc())
    ).all()
    return render_template(
        "auth/tokens.html", form=form, rows=rows, new_token=new_token, revoke_form=EmptyForm(), now=now_utc()
    ), status


@bp.post("/account/tokens/<id:token_id>/revoke")
def revoke_token(token_id):
    """Revoke one of your tokens; it stops working at once."""
    require(may_use_account())
    row = db.session.get(ApiToken, token_id)
    if row is None or row.user_id != current_user.id:
        abort(404, description="No token of yours has this id.")
    if row.revoked_at is None:
        row.revoked_at = now_utc()
        commit()
    flash(f"Token “{row.name}” was revoked.", "success")
    return redirect(url_for("auth.tokens"), 303)
