"""Sign-in, own-account and token forms."""

from flask_wtf import FlaskForm
from wtforms import IntegerField, PasswordField, StringField
from wtforms.validators import InputRequired, Length, NumberRange, Optional

from .. import rules
from ..forms import NewPasswordField, Rule, VersionedForm, check_new_password, strip
from ..users.forms import UserFields


class LoginForm(FlaskForm):
    username = StringField(
        "Username or email",
        filters=[strip],
        validators=[InputRequired(), Length(max=255)],
        render_kw={"autocomplete": "username", "autocapitalize": "none", "maxlength": 255},
    )
    password = PasswordField(
        "Password",
        validators=[InputRequired(), Length(max=rules.PASSWORD_MAX)],
        render_kw={"autocomplete": "current-password"},
    )


class AccountForm(UserFields, VersionedForm):
    """/account: own username and email, and a new password (the current one required for it)."""

    current_password = PasswordField(
        "Current password",
        description="Needed only to set a new password.",
        render_kw={"autocomplete": "current-password"},
    )
    new_password = NewPasswordField("New password")

    def validate_new_password(self, field):
        check_new_password(self, field)


class TokenForm(FlaskForm):
    name = StringField(
        "Name",
        filters=[strip],
        validators=[Rule(rules.token_name)],
        description="What the token is for, e.g. “backup script”.",
        render_kw={"maxlength": rules.TOKEN_NAME_MAX},
    )
    expires_days = IntegerField(
        "Expires after (days)",
        validators=[Optional(), NumberRange(min=1, max=3650)],
        description="Leave empty for a token that does not expire.",
        render_kw={"min": 1, "max": 3650},
    )
