"""The add/edit post form."""

from flask_wtf import FlaskForm
from wtforms import SelectField, StringField, TextAreaField
from wtforms.validators import StopValidation

from .. import rules
from ..converters import MAX_ID
from ..forms import Rule, VersionedForm, strip
from .queries import author_named, user_exists, username_of


def to_user_id(value):
    """The author id from the form; anything that is not a sane id becomes None (a field error)."""
    try:
        user_id = int(value)
    except (TypeError, ValueError):
        return None
    return user_id if 1 <= user_id <= MAX_ID else None


class PostFields:
    title = StringField(
        "Title", filters=[strip], validators=[Rule(rules.title)], render_kw={"maxlength": rules.TITLE_MAX}
    )
    body = TextAreaField(
        "Body", validators=[Rule(rules.body)], render_kw={"rows": 10, "maxlength": rules.BODY_MAX}
    )
    # Choices are filled per request; existence is checked against the database, not the list,
    # so that a form with too many users to list can take an id instead.
    user_id = SelectField("Author", coerce=to_user_id, validate_choice=False)

    def validate_user_id(self, field):
        if not getattr(self, "list_authors", True):
            # Past the select limit the field is typed: a username (what a person knows), or an id.
            field.data = author_named(field.raw_data[0] if field.raw_data else "")
        if field.data is None or not user_exists(field.data):
            raise StopValidation("Choose an existing user.")

    def author_text(self):
        """What the typed author field shows: the name typed, else the chosen author's username."""
        if self.user_id.raw_data:
            return self.user_id.raw_data[0]
        return username_of(self.user_id.data) if self.user_id.data else ""


class NewPostForm(PostFields, FlaskForm):
    pass


class EditPostForm(PostFields, VersionedForm):
    pass
