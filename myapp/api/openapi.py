"""GET /api/openapi.json: the OpenAPI 3.1 document of this API, built from the same rules it runs.

Lengths and the username pattern come from myapp/rules.py and the sorts from the query modules,
so the document cannot drift from what the API checks.
"""

from flask import current_app

from ..converters import MAX_ID
from ..posts import queries as post_queries
from ..search.match import CAP
from ..users import queries as user_queries
from . import bp
from .schemas import SCHEMAS

JSON = "application/json"
ERROR_STATUSES = {
    "400": "The body is not valid JSON.",
    "401": "No valid token: writes need `Authorization: Bearer <token>`; reads need a token or a "
    "signed-in session unless the site's READ_ACCESS is public.",
    "403": "The account may not do this (members change, and see the history of, only their own posts "
    "and account).",
    "404": "No row has this id.",
    "409": "The username or email is taken, or the version sent is stale.",
    "413": "The body is larger than the server accepts.",
    "415": "The body is not application/json.",
    "422": "A field breaks a rule; `fields` says which and why.",
}


def ref(name):
    return {"$ref": f"#/components/schemas/{name}"}


def json_content(schema):
    return {"content": {JSON: {"schema": schema}}}


def responses(success, *errors):
    """The success responses plus the listed error statuses, all with the Error body."""
    answers = dict(success)
    for status in sorted(errors):
        answers[status] = {"description": ERROR_STATUSES[status], **json_content(ref("Error"))}
    return answers


def list_parameters(sorts, default_sort):
    config = current_app.config
    return [
        {"name": "page", "in": "query", "schema": {"type": "integer", "minimum": 1, "default": 1}},
        {
            "name": "per_page",
            "in": "query",
            "description": f"Larger values are capped at {config['MAX_PER_PAGE']}.",
            "schema": {"type": "integer", "minimum": 1, "default": config["PER_PAGE"]},
        },
        {
            "name": "q",
            "in": "query",
            "description": (
                "Search, ignoring case. Three or more characters match anywhere in the text; one or two "
                "characters match its start only (SPEC §14: short terms are bounded). Counts of more "
                f"than {CAP} matches stop there (total_capped)."
            ),
            "schema": {"type": "string"},
        },
        {
            "name": "sort",
            "in": "query",
            "description": "`-` in front sorts descending; any other value falls back to the default.",
            "schema": {"type": "string", "enum": sorted(sorts), "default": default_sort},
        },
    ]


def id_parameter(name):
    return {
        "name": name,
        "in": "path",
        "required": True,
        "schema": {"type": "integer", "minimum": 1, "maximum": MAX_ID},
    }


def resource(kind, name, parameters):
    """The two paths of a resource: the collection and one item."""
    title = kind.capitalize()
    create_errors = ["400", "409", "413", "415", "422"] if kind == "user" else ["400", "413", "415", "422"]
    created = {
        "description": f"The new {kind}.",
        "headers": {"Location": {"description": f"URL of the new {kind}.", "schema": {"type": "string"}}},
        **json_content(ref(title)),
    }
    body = {"required": True, **json_content(ref(f"{title}Create"))}
    patch_body = {"required": True, **json_content(ref(f"{title}Update"))}
    one = {"description": f"The {kind}.", **json_content(ref(title))}
    return {
        f"/api/{name}": {
            "get": {
                "operationId": f"list_{name}",
                "summary": f"A page of {name}.",
                "parameters": parameters,
                "responses": responses(
                    {"200": {"description": "A page.", **json_content(ref(f"{title}Page"))}}, "401"
                ),
            },
            "post": {
                "operationId": f"create_{kind}",
                "summary": f"Add a {kind}.",
                "requestBody": body,
                # Only a user can collide with another (username, email); a new post cannot.
                "responses": responses({"201": created}, "401", "403", *create_errors),
            },
        },
        f"/api/{name}/{{{kind}_id}}": {
            "parameters": [id_parameter(f"{kind}_id")],
            "get": {
                "operationId": f"get_{kind}",
                "summary": f"One {kind}.",
                "responses": responses({"200": one}, "401", "404"),
            },
            "patch": {
                "operationId": f"update_{kind}",
                "summary": f"Change some of a {kind}'s fields; send `version` to refuse a stale edit.",
                "requestBody": patch_body,
                "responses": responses({"200": one}, "400", "401", "403", "404", "409", "413", "415", "422"),
            },
            "delete": {
                "operationId": f"delete_{kind}",
                "summary": f"Delete a {kind}" + (" and their posts." if kind == "user" else "."),
                "responses": responses(
                    {"204": {"description": "Deleted."}},
                    "401",
                    "403",
                    "404",
                    *(["409"] if kind == "user" else []),
                ),
            },
        },
    }


def history_parameters(activity=False):
    parameters = list_parameters({"-id"}, "-id")[:2]  # page, per_page: newest first, always
    if activity:
        parameters += [
            {
                "name": "account",
                "in": "query",
                "description": "Only changes by this account: a username or an id.",
                "schema": {"type": "string"},
            },
            {
                "name": "kind",
                "in": "query",
                "schema": {"type": "string", "enum": ["user", "post", "database"]},
            },
        ]
    return parameters


def history_paths():
    """A user's and a post's history (also after a delete), and /api/activity (admins)."""
    page = {"200": {"description": "A page of entries, newest first.", **json_content(ref("HistoryPage"))}}
    paths = {
        f"/api/{name}/{{{kind}_id}}/history": {
            "parameters": [id_parameter(f"{kind}_id")],
            "get": {
                "operationId": f"{kind}_history",
                "summary": f"A {kind}'s history; members see their own account's and posts' only.",
                "parameters": history_parameters(),
                "responses": responses(page, "401", "403", "404"),
            },
        }
        for kind, name in (("user", "users"), ("post", "posts"))
    }
    paths["/api/activity"] = {
        "get": {
            "operationId": "activity",
            "summary": "Every change, newest first (admins).",
            "parameters": history_parameters(activity=True),
            "responses": responses(page, "401", "403"),
        }
    }
    return paths


def document():
    post_parameters = [
        *list_parameters(post_queries.SORTS, post_queries.DEFAULT_SORT),
        {
            "name": "user",
            "in": "query",
            "description": "Only this user's posts.",
            "schema": {"type": "integer"},
        },
    ]
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Users & Posts API",
            "version": "1.0.0",
            "description": "JSON only: bodies must be application/json. Errors are "
            '`{"error": {"code", "message", "fields"}}`. Authenticate with an API token '
            "(`Authorization: Bearer <token>`, made at /account/tokens or with `flask create-token`); "
            "reads also accept a signed-in session. Email addresses are left out for anonymous readers.",
        },
        "security": [{"bearerAuth": []}],
        "paths": {
            **resource("user", "users", list_parameters(user_queries.SORTS, user_queries.DEFAULT_SORT)),
            **resource("post", "posts", post_parameters),
            **history_paths(),
        },
        "components": {
            "schemas": SCHEMAS,
            "securitySchemes": {
                "bearerAuth": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "A token from /account/tokens.",
                }
            },
        },
    }


@bp.get("/api/openapi.json")
def openapi():
    """This API's OpenAPI 3.1 document."""
    return document()
