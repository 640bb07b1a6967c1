"""SPEC §12 in the app: security headers, form pages not cached, trusted hosts, HTTPS, ProxyFix."""

import pytest
from flask import request
from sqlalchemy import func, select

from myapp import create_app, security
from myapp.models import User

from .conftest import CSRF_INPUT, NOT_ADMIN

SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
    "frame-ancestors 'none'; base-uri 'none'",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Cross-Origin-Opener-Policy": "same-origin",
}


def assert_security_headers(response):
    for name, value in SECURITY_HEADERS.items():
        assert response.headers.get(name) == value, (name, response.status_code)


@pytest.fixture
def with_https(monkeypatch):
    monkeypatch.setenv("HTTPS", "1")


@pytest.fixture
def behind_one_proxy(monkeypatch):
    monkeypatch.setenv("PROXY_COUNT", "1")
    monkeypatch.setenv("TRUSTED_HOSTS", "public.example")


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("get", "/users", 200),
        ("get", "/users/new", 200),
        ("get", "/api/users", 200),
        ("get", "/api/openapi.json", 200),
        ("get", "/users.csv", 200),
        ("get", "/posts.csv", 200),
        ("get", "/static/style.css", 200),
        ("get", "/healthz", 200),
        ("get", "/nowhere", 404),
        ("get", "/api/nowhere", 404),
        ("put", "/api/users", 405),
        ("post", "/users/new", 400),  # no CSRF token
    ],
)
def test_every_response_has_the_security_headers(client, method, path, status):
    response = getattr(client, method)(path)
    response.close()  # a static file's handle
    assert response.status_code == status
    assert_security_headers(response)


def test_the_500_page_has_them_too(app, client, monkeypatch):
    app.config["PROPAGATE_EXCEPTIONS"] = False

    def boom(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr("myapp.users.views.user_page", boom)
    response = client.get("/users")
    assert response.status_code == 500
    assert_security_headers(response)


@pytest.mark.parametrize(
    "path", ["/users/new", "/add", "/posts/new", "/users/{u}/edit", "/users/{u}/delete", "/posts/{p}/edit"]
)
def test_form_pages_are_not_stored(client, make_user, make_post, path):
    user_id = make_user("alice")
    post_id = make_post(user_id)
    response = client.get(path.format(u=user_id, p=post_id))
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"


def test_a_form_shown_again_with_errors_is_not_stored_either(client, submit):
    response = submit("/users/new", {"username": "x", "email": "nope"})
    assert response.status_code == 422
    assert response.headers["Cache-Control"] == "no-store"


@pytest.mark.parametrize("path", ["/users", "/posts", "/stats"])
def test_pages_without_a_form_keep_their_caching(client, path):
    assert "no-store" not in client.get(path).headers.get("Cache-Control", "")


BAD_HOSTS = [
    "attacker.example",
    "attacker.example:80",
    "localhost.attacker.example",
    "ex..ample",
    "a" * 64 + ".com",
    ("a" * 60 + ".") * 5 + "com",  # longer than 253
    "bad host",
    "exa_mple",
    "localhost:99999",
    "localhost:0",
    "localhost:",
    "localhost:80:80",
    "[::1",
    "[::1]x",
    "[::g]",
    "::1",
    "[::2]",
    "",
    "-localhost",
    "local\u00e9host",
    "localhost/evil",
    "localhost@evil",
]


@pytest.mark.parametrize("host", BAD_HOSTS)
@pytest.mark.parametrize("path", ["/healthz", "/users", "/users/new", "/static/style.css", "/nowhere"])
def test_an_untrusted_or_malformed_host_is_a_400_page(client, host, path):
    response = client.get(path, headers={"Host": host})
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert "does not answer for the host" in html and "<nav" in html and "Traceback" not in html
    assert_security_headers(response)


@pytest.mark.parametrize("host", ["attacker.example", "ex..ample", "[::1"])
def test_an_untrusted_host_cannot_write_through_the_api(client, fetch, host):
    """DNS rebinding: a page on attacker.example that resolves to 127.0.0.1 must not reach the API."""
    response = client.post(
        "/api/users", json={"username": "mallory", "email": "m@example.com"}, headers={"Host": host}
    )
    assert response.status_code == 400
    assert response.get_json()["error"]["code"] == "bad_request"
    assert fetch(select(func.count()).select_from(User).where(NOT_ADMIN))[0][0] == 0


@pytest.mark.parametrize(
    "host",
    [
        "localhost",
        "LOCALHOST",
        "localhost:8000",
        "localhost.",
        "127.0.0.1",
        "127.0.0.1:65535",
        "[::1]",
        "[::1]:8443",
        "[0:0:0:0:0:0:0:1]",
    ],
)
def test_the_loopback_names_are_trusted_by_default_on_any_port(client, host):
    assert client.get("/healthz", headers={"Host": host}).status_code == 200


def test_trusted_hosts_from_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("INSTANCE_PATH", str(tmp_path))
    monkeypatch.setenv("TRUSTED_HOSTS", " example.com, www.example.com ,[2001:db8::1]")
    client = create_app("testing").test_client()
    for host, status in [
        ("example.com", 200),
        ("www.example.com:8443", 200),
        ("[2001:db8::1]:80", 200),
        ("localhost", 400),  # the list replaces the default
        ("evil.example.com", 400),
    ]:
        response = client.get("/static/style.css", headers={"Host": host})
        response.close()
        assert response.status_code == status, host


@pytest.mark.parametrize("value", ["exa mple.com", "ex..ample", "[::1", "localhost:99999"])
def test_a_malformed_trusted_hosts_setting_stops_the_app(monkeypatch, tmp_path, value):
    monkeypatch.setenv("INSTANCE_PATH", str(tmp_path))
    monkeypatch.setenv("TRUSTED_HOSTS", value)
    with pytest.raises(ValueError, match="TRUSTED_HOSTS"):
        create_app("testing")


def test_host_name_parsing():
    assert security.host_name("Example.COM:443") == "example.com"
    assert security.host_name("[::1]:8000") == "[::1]"
    assert security.host_name("[::1]:") is None
    assert security.host_name(None) is None


def test_without_https_no_hsts_and_no_secure_cookie(client):
    response = client.get("/users/new")
    assert "Strict-Transport-Security" not in response.headers
    assert "Secure" not in response.headers["Set-Cookie"]


@pytest.mark.usefixtures("with_https")
def test_https_makes_cookies_secure_and_sends_hsts(client):
    response = client.get("/users/new", base_url="https://localhost")
    assert "; Secure" in response.headers["Set-Cookie"]
    assert response.headers["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains"
    assert client.get("/nowhere").headers["Strict-Transport-Security"].startswith("max-age=")


def forwarded(proto="https", host="public.example:8443", client_address="203.0.113.7"):
    return {"X-Forwarded-Proto": proto, "X-Forwarded-Host": host, "X-Forwarded-For": client_address}


@pytest.mark.usefixtures("behind_one_proxy", "with_https")
def test_behind_a_proxy_a_form_posted_over_https_is_accepted(client, find_user):
    """The strict Referer check (Flask-WTF, on under HTTPS) compares with the public origin that
    ProxyFix restores from X-Forwarded-Proto/Host, so a real form passes."""
    headers = forwarded()
    html = client.get("/users/new", headers=headers).get_data(as_text=True)
    token = security_token(html)
    response = client.post(
        "/users/new",
        data={"username": "alice", "email": "alice@example.com", "csrf_token": token},
        headers={**headers, "Referer": "https://public.example:8443/users/new"},
    )
    assert response.status_code in (302, 303), response.get_data(as_text=True)
    assert find_user("alice") is not None


@pytest.mark.usefixtures("behind_one_proxy", "with_https")
@pytest.mark.parametrize(
    "referer",
    [None, "https://attacker.example/", "http://public.example:8443/users/new", "https://public.example/"],
)
def test_behind_a_proxy_a_form_without_a_same_origin_referer_is_refused_with_the_reason(
    client, find_user, referer
):
    headers = forwarded()
    token = security_token(client.get("/users/new", headers=headers).get_data(as_text=True))
    if referer:
        headers["Referer"] = referer
    response = client.post(
        "/users/new",
        data={"username": "alice", "email": "alice@example.com", "csrf_token": token},
        headers=headers,
    )
    assert response.status_code == 400
    assert "Referer" in response.get_data(as_text=True)
    assert find_user("alice") is None


def security_token(html):
    return CSRF_INPUT.search(html).group(1)


@pytest.fixture
def remote_addresses(app):
    """What request.remote_addr was in each request (the address the sign-in limits will count)."""
    seen = []

    @app.after_request
    def note(response):
        seen.append(request.remote_addr)
        return response

    return seen


@pytest.mark.usefixtures("behind_one_proxy")
def test_proxy_count_takes_the_address_the_proxy_saw_not_what_the_client_forged(client, remote_addresses):
    headers = forwarded(client_address="6.6.6.6, 203.0.113.7")  # the client's forgery, then nginx's
    assert client.get("/healthz", headers=headers).status_code == 200
    assert remote_addresses == ["203.0.113.7"]


@pytest.mark.usefixtures("behind_one_proxy")
def test_proxy_count_checks_the_forwarded_host_against_trusted_hosts(client):
    assert client.get("/healthz", headers=forwarded(host="attacker.example")).status_code == 400
    assert client.get("/healthz", headers=forwarded(host="public.example")).status_code == 200


def test_without_proxy_count_forwarded_headers_are_ignored(client, remote_addresses):
    response = client.get("/healthz", headers=forwarded(host="attacker.example"))
    assert response.status_code == 200  # the Host header (localhost) is what counts
    assert remote_addresses == ["127.0.0.1"]


def test_a_form_over_plain_http_needs_no_referer(client, submit, find_user):
    assert submit("/users/new", {"username": "alice", "email": "a@example.com"}).status_code in (302, 303)
    assert find_user("alice")


@pytest.mark.parametrize("key", ["x", "k" * 31])
def test_production_refuses_a_short_secret_key(monkeypatch, tmp_path, key):
    monkeypatch.setenv("INSTANCE_PATH", str(tmp_path))
    monkeypatch.setenv("SECRET_KEY", key)
    with pytest.raises(RuntimeError, match="at least 32 characters"):
        create_app("production")
    with pytest.raises(RuntimeError, match="at least 32 characters"):
        create_app("snapshot")


def test_production_starts_with_a_long_key_or_the_instance_file(monkeypatch, tmp_path):
    monkeypatch.setenv("INSTANCE_PATH", str(tmp_path))
    monkeypatch.setenv("SECRET_KEY", "k" * 32)
    assert create_app("production").config["SECRET_KEY"] == "k" * 32
    monkeypatch.delenv("SECRET_KEY")
    assert len(create_app("production").config["SECRET_KEY"]) == 64
