"""GET /metrics in one process (no multiprocess directory): the token, the series, bounded labels.
Across gunicorn workers: tests/test_observability_gunicorn.py."""

import pytest
from prometheus_client.parser import text_string_to_metric_families

from myapp.observability import record_sign_in_failure, record_throttled

TOKEN = "metrics-test-token-0123456789"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


@pytest.fixture
def metrics_on(app):
    app.config["METRICS_TOKEN"] = TOKEN
    return app


def scrape(client):
    response = client.get("/metrics", headers=AUTH)
    assert response.status_code == 200, response.status_code
    return response.get_data(as_text=True)


def samples(text):
    """{(sample name, sorted labels): value}"""
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def requests_total(text, endpoint, method="GET", status="200"):
    labels = (("endpoint", endpoint), ("method", method), ("status", status))
    return samples(text).get(("myapp_http_requests_total", labels), 0)


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Bearer wrong-token"},
        {"Authorization": f"Bearer {TOKEN}x"},
        {"Authorization": f"Basic {TOKEN}"},
        {"Authorization": TOKEN},
        {"Authorization": "Bearer "},
    ],
)
def test_without_the_right_token_metrics_is_not_there(metrics_on, client, headers):
    response = client.get("/metrics", headers=headers)
    assert response.status_code == 404
    assert "myapp_" not in response.get_data(as_text=True)


@pytest.mark.parametrize("token", [None, ""])
def test_off_while_metrics_token_is_unset(app, client, token):
    app.config["METRICS_TOKEN"] = token
    assert client.get("/metrics", headers={"Authorization": "Bearer "}).status_code == 404
    assert client.get("/metrics", headers={"Authorization": "Bearer None"}).status_code == 404


def test_the_series_with_the_token(metrics_on, client, make_user):
    make_user(posts=3)
    make_user(posts=1)
    for _ in range(5):
        assert client.get("/healthz").status_code == 200
    assert client.get("/users/999").status_code == 404
    response = client.get("/metrics", headers=AUTH)
    assert response.status_code == 200
    assert response.content_type.startswith("text/plain; version=0.0.4")
    assert response.headers["Cache-Control"] == "no-store"
    text = response.get_data(as_text=True)
    assert requests_total(text, "health.healthz") == 5
    assert requests_total(text, "users.show", status="404") == 1
    found = samples(text)
    healthz = (("endpoint", "health.healthz"),)
    assert found[("myapp_http_request_duration_seconds_count", healthz)] == 5
    assert found[("myapp_http_request_duration_seconds_bucket", (*healthz, ("le", "+Inf")))] == 5
    assert found[("myapp_http_request_db_seconds_count", healthz)] == 5
    assert found[("myapp_http_request_db_seconds_sum", healthz)] > 0
    # The kept counts, read when scraped; and the request being served is the scrape itself.
    assert found[("myapp_users", ())] == 3 and found[("myapp_posts", ())] == 4  # and the admin
    assert found[("myapp_http_requests_in_progress", ())] == 1
    assert found[("myapp_sign_in_failures_total", ())] == 0 and found[("myapp_throttled_total", ())] == 0


def test_sign_in_failures_and_throttled_attempts_are_counted(metrics_on, client):
    with metrics_on.test_request_context("/login", method="POST"):
        record_sign_in_failure()
        record_sign_in_failure()
        record_throttled()
    found = samples(scrape(client))
    assert found[("myapp_sign_in_failures_total", ())] == 2
    assert found[("myapp_throttled_total", ())] == 1


def series(text):
    return {key for key in samples(text) if ("endpoint", "metrics.index") not in key[1]}


def test_unknown_paths_ids_and_methods_make_no_new_series(metrics_on, client):
    client.get("/users/1")  # the signed-in admin: a 200
    client.get("/users/2")  # and a 404
    client.get("/no/such/page")
    client.open("/healthz", method="BREW")
    before = series(scrape(client))
    for user_id in range(3, 1002):
        assert client.get(f"/users/{user_id}").status_code == 404
    for n in range(50):
        client.get(f"/no/such/page/{n}")
        client.get(f"/api/nothing-{n}")
        client.open(f"/users/{n + 1}", method=f"BREW{n}")
    text = scrape(client)
    assert series(text) == before
    assert requests_total(text, "users.show", status="404") == 1000  # 2 and 3 to 1001
    assert requests_total(text, "none", status="404") == 101
    assert requests_total(text, "none", method="other", status="405") == 51  # no route for the method
    assert "/users/" not in text and "/no/such" not in text and "BREW" not in text


def test_every_kind_of_response_is_counted_once_and_leaves_progress(metrics_on, client, make_user):
    make_user()
    with client.get("/static/style.css") as static:  # a file, sent as is
        assert static.status_code == 200
    export = client.get("/users.csv")  # streamed: done when the server closes it
    assert export.get_data(as_text=True).count("\n") == 3  # header, the user, the admin
    export.close()
    head = client.head("/users.csv")
    assert head.status_code == 200 and head.data == b""
    head.close()
    text = scrape(client)
    assert requests_total(text, "static") == 1
    assert requests_total(text, "exports.users_csv") == 1
    assert requests_total(text, "exports.users_csv", method="HEAD") == 1
    assert samples(text)[("myapp_http_requests_in_progress", ())] == 1  # the scrape alone
