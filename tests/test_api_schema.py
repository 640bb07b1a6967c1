"""Every operation in /api/openapi.json, driven by schemathesis from the document itself.

Each generated request goes to the app (WSGI, no network); no answer may be a 5xx, and each
answer's status, content type, body and headers must be ones the document declares.
"""

import os

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from myapp import create_app
from myapp.auth import tokens
from myapp.extensions import db
from myapp.models import Post, User

CHECKS = [
    schemathesis.checks.not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    response_headers_conformance,
]
# Per operation: ten operations stay well under a minute. SCHEMA_EXAMPLES=500 for a deeper search.
EXAMPLES = int(os.environ.get("SCHEMA_EXAMPLES", 30))

# Loaded when the module is collected: schemathesis's lazy fixture loader does not run on pytest 9.
app = create_app("testing")
schema = schemathesis.openapi.from_wsgi("/api/openapi.json", app)


@pytest.fixture(autouse=True)
def database():
    """Fresh tables per operation, with a user and a post so that generated ids sometimes exist,
    and an admin's token: the requests are an admin's, so that every operation runs for real."""
    with app.app_context():
        db.create_all()
        user = User(username="someone", email="someone@example.com", role="admin")
        db.session.add(user)
        db.session.flush()
        db.session.add(Post(title="A post", user_id=user.id))
        _row, token = tokens.issue(user, "schemathesis")
        db.session.commit()
    yield {"Authorization": f"Bearer {token}"}
    with app.app_context():
        db.session.remove()
        db.drop_all()


def test_document_is_openapi_3_1_with_every_operation():
    operations = {
        (op.method.upper(), op.path) for op in (result.ok() for result in schema.get_all_operations())
    }
    assert schema.raw_schema["openapi"] == "3.1.0"
    assert operations == {
        (method, f"/api/{name}{suffix}")
        for name, item in (("users", "/{user_id}"), ("posts", "/{post_id}"))
        for suffix, methods in (
            ("", ("GET", "POST")),
            (item, ("GET", "PATCH", "DELETE")),
            (f"{item}/history", ("GET",)),
        )
        for method in methods
    } | {("GET", "/api/activity")}


@schema.parametrize()
@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
def test_api_conforms_to_its_openapi_document(case, database):
    case.call_and_validate(headers=database, checks=CHECKS)
