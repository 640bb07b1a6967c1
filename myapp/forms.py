"""Form pieces shared by the blueprints: the rule bridge, the CSRF-only form, the version field,
the new-password field."""

from flask_wtf import FlaskForm
from wtforms import HiddenField, PasswordField
from wtforms.validators import Optional, StopValidation

from . import rules
from .rules import Invalid


def strip(value):
    return value.strip() if isinstance(value, str) else value


class Rule:
    """A WTForms validator that applies a function from myapp.rules and keeps its cleaned value."""

    def __init__(self, rule):
        self.rule = rule
        self.field_flags = {"required": True} if rule.__name__ != "body" else {}

    def __call__(self, form, field):
        try:
            field.data = self.rule(field.data)
        except Invalid as error:
            raise StopValidation(str(error)) from None


class EmptyForm(FlaskForm):
    """Only the CSRF token: the delete buttons' form."""


class VersionedForm(FlaskForm):
    """An edit form that carries the version of the row it was filled from."""

    version = HiddenField()

    def is_stale(self, row):
        # The submitted value, not the one filled in from the row: a post without a version
        # cannot prove it saw the latest one.
        submitted = self.version.raw_data[0] if self.version.raw_data else None
        return submitted != str(row.version)


class NewPasswordField(PasswordField):
    """A new password, checked by rules.password against the form's username and email."""

    def __init__(self, label, **kwargs):
        kwargs.setdefault(
            "description", f"At least {rules.PASSWORD_MIN} characters; a long phrase is easiest to remember."
        )
        render_kw = {"autocomplete": "new-password", "maxlength": rules.PASSWORD_MAX}
        super().__init__(label, validators=[Optional(strip_whitespace=False)], render_kw=render_kw, **kwargs)


def check_new_password(form, field):
    """Apply the password rules when a new password was typed (empty: keep the current one)."""
    if not field.data:
        return
    try:
        rules.password(field.data, username=form.username.data, email=form.email.data)
    except rules.Invalid as error:
        raise StopValidation(str(error)) from None
