"""JSON Schemas of the API's bodies, with the limits of myapp/rules.py."""

from .. import rules
from ..converters import MAX_ID
from ..models import history
from ..search.match import CAP

ID = {"type": "integer", "minimum": 1, "maximum": MAX_ID}
TIMESTAMP = {"type": "string", "format": "date-time"}
USERNAME = {
    "type": "string",
    "minLength": rules.USERNAME_MIN,
    "maxLength": rules.USERNAME_MAX,
    "pattern": f"^{rules.USERNAME_CHARS.pattern}$",
    "description": "Surrounding white space is stripped; unique ignoring case.",
}
EMAIL = {
    "type": "string",
    "format": "email",
    "maxLength": rules.EMAIL_MAX,
    "description": "Unique ignoring case.",
}
TITLE = {"type": "string", "minLength": 1, "maxLength": rules.TITLE_MAX, "pattern": r"\S"}
BODY = {"type": "string", "maxLength": rules.BODY_MAX, "description": "Newlines and tabs allowed."}
VERSION = {"type": "integer", "minimum": 1, "description": "Bumped by every change."}


def obj(properties, required=(), **extra):
    return {"type": "object", "properties": properties, "required": list(required), **extra}


def page_of(item):
    return obj(
        {
            "items": {"type": "array", "items": {"$ref": f"#/components/schemas/{item}"}},
            "page": {"type": "integer", "minimum": 1},
            "per_page": {"type": "integer", "minimum": 1},
            "total": {
                "type": "integer",
                "minimum": 0,
                "description": "How many match; a lower bound when total_capped is true.",
            },
            "total_capped": {
                "type": "boolean",
                "description": (
                    f"True when a search (q) matched more than {CAP} items and stopped counting there: "
                    "total is then the cap and pages a lower bound; keep asking for the next page "
                    "until one comes back with fewer than per_page items."
                ),
            },
            "pages": {"type": "integer", "minimum": 1},
        },
        ["items", "page", "per_page", "total", "total_capped", "pages"],
    )


USER_SUMMARY = {
    "id": ID,
    "username": {"type": "string"},
    "email": {"type": "string"},
    "post_count": {"type": "integer", "minimum": 0},
    "created_at": TIMESTAMP,
}
# Email addresses are left out for anonymous readers (READ_ACCESS=public, snapshot mode).
REQUIRED_USER = [name for name in USER_SUMMARY if name != "email"]
POST_SUMMARY = {
    "id": ID,
    "title": {"type": "string"},
    "user_id": ID,
    "author": {"type": "string", "description": "The author's username."},
    "created_at": TIMESTAMP,
}

SCHEMAS = {
    "User": obj(
        {**USER_SUMMARY, "version": VERSION, "updated_at": TIMESTAMP},
        [*REQUIRED_USER, "version", "updated_at"],
    ),
    "UserSummary": obj(USER_SUMMARY, REQUIRED_USER),
    "UserPage": page_of("UserSummary"),
    "UserCreate": obj(
        {"username": USERNAME, "email": EMAIL}, ["username", "email"], additionalProperties=False
    ),
    "UserUpdate": obj({"username": USERNAME, "email": EMAIL, "version": VERSION}, additionalProperties=False),
    "Post": obj(
        {**POST_SUMMARY, "body": {"type": "string"}, "version": VERSION, "updated_at": TIMESTAMP},
        [*POST_SUMMARY, "body", "version", "updated_at"],
    ),
    "PostSummary": obj(POST_SUMMARY, POST_SUMMARY),
    "PostPage": page_of("PostSummary"),
    "PostCreate": obj(
        {
            "title": TITLE,
            "body": BODY,
            "user_id": {**ID, "description": "An existing user's id; left out, the token's own account."},
        },
        ["title"],
        additionalProperties=False,
    ),
    "PostUpdate": obj(
        {"title": TITLE, "body": BODY, "user_id": ID, "version": VERSION}, additionalProperties=False
    ),
    "HistoryEntry": obj(
        {
            "id": ID,
            "at": TIMESTAMP,
            "actor_id": {
                **ID,
                "type": ["integer", "null"],
                "description": "Null once the account is deleted.",
            },
            "actor_name": {"type": "string", "description": "A username, or `command line`."},
            "action": {"type": "string", "enum": list(history.ACTIONS)},
            "kind": {"type": "string", "enum": list(history.KINDS)},
            "object_id": {**ID, "type": ["integer", "null"]},
            "changes": {
                "type": "object",
                "description": "Each changed field's old and new value (null where there was none). "
                "Never passwords; email values only for signed-in readers.",
                "additionalProperties": obj({"old": {}, "new": {}}, ["old", "new"]),
            },
            "note": {"type": ["string", "null"], "description": "e.g. `password changed`."},
            "restorable": {"type": "boolean", "description": "A deletion an admin can undo at /activity."},
        },
        [
            "id",
            "at",
            "actor_id",
            "actor_name",
            "action",
            "kind",
            "object_id",
            "changes",
            "note",
            "restorable",
        ],
    ),
    "HistoryPage": page_of("HistoryEntry"),
    "Error": obj(
        {
            "error": obj(
                {
                    "code": {
                        "type": "string",
                        "description": "For programs, e.g. `validation_failed`, `taken`.",
                    },
                    "message": {"type": "string", "description": "For people."},
                    "fields": {"type": "object", "additionalProperties": {"type": "string"}},
                },
                ["code", "message", "fields"],
            )
        },
        ["error"],
    ),
}
