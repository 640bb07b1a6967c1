"""The add/edit user form."""

from flask_wtf import FlaskForm
from wtforms import SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import ValidationError

from .. import rules
from ..forms import NewPasswordField, Rule, VersionedForm, check_new_password, strip
from ..models import ROLES
from .queries import email_taken, taken_field, username_taken

TAKEN = {"username": "That username is taken.", "email": "That email address is already in use."}


def add_taken_error(form, integrity_error):
    """Put a unique index's refusal (a racing request took the name) on its field of form;
    False when the error was not a taken username or email."""
    field = taken_field(integrity_error)
    if field is None:
        return False
    form[field].errors = [*form[field].errors, TAKEN[field]]
    return True


class UserFields:
    username = StringField(
        "Username",
        filters=[strip],
        validators=[Rule(rules.username)],
        description=f"{rules.USERNAME_MIN}–{rules.USERNAME_MAX} characters: letters, digits, . _ -",
        render_kw={"maxlength": rules.USERNAME_MAX, "autocomplete": "off", "autocapitalize": "none"},
    )
    email = StringField(
        "Email",
        filters=[strip],
        validators=[Rule(rules.email)],
        render_kw={"type": "email", "maxlength": rules.EMAIL_MAX, "autocomplete": "email"},
    )

    def __init__(self, *args, user_id=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.user_id = user_id  # the user being edited, who may keep their own name

    def validate_username(self, field):
        if username_taken(field.data, self.user_id):
            raise ValidationError(TAKEN["username"])

    def validate_email(self, field):
        if email_taken(field.data, self.user_id):
            raise ValidationError(TAKEN["email"])


class AdminFields:
    """What only an admin sets on a user: the role and a password."""

    role = SelectField(
        "Role", choices=[SelectChoice(role, role.capitalize()) for role in ROLES], default="member"
    )
    password = NewPasswordField(
        "Password", description="Optional. Without one, the user cannot sign in until a password is set."
    )

    def validate_password(self, field):
        check_new_password(self, field)


class NewUserForm(UserFields, AdminFields, FlaskForm):
    pass


class EditUserForm(UserFields, AdminFields, VersionedForm):
    pass
