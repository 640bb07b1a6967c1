"""The production shape for tests: deploy/nginx.conf (TLS, a certificate made here) in front of
gunicorn -c gunicorn.conf.py, and the one helper every request to it is built by (Visitor)."""

import http.client
import os
import shutil
import signal
import socket
import ssl
import subprocess
import time
from pathlib import Path
from urllib.parse import urlencode

import pytest

from .procs import PROJECT_ROOT

NGINX = os.environ.get("NGINX_PATH") or shutil.which("nginx") or "/usr/sbin/nginx"
PUBLIC_HOST = "public.test"  # the name the certificate and TRUSTED_HOSTS carry
CLIENT_ADDRESS = "127.0.0.2"  # visitors connect from here, nginx from 127.0.0.1: the app can tell them apart


def require_nginx():
    """Skip without nginx or openssl, except in CI, where a missing one must fail the build."""
    missing = [
        name
        for name, path in (("nginx", NGINX), ("openssl", shutil.which("openssl")))
        if not path or not os.path.exists(path)
    ]
    if not missing:
        return
    message = f"{' and '.join(missing)} not found"
    if os.environ.get("CI") == "true":
        pytest.fail(f"{message}; .ci/run installs them with apt-get", pytrace=False)
    pytest.skip(f"{message}: `apt-get install nginx openssl` to run the deployment tests")


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def make_certificate(folder):
    """A self-signed certificate for PUBLIC_HOST (and 127.0.0.1), valid for a day."""
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
         "-keyout", str(key), "-out", str(cert), "-subj", f"/CN={PUBLIC_HOST}",
         "-addext", f"subjectAltName=DNS:{PUBLIC_HOST},IP:127.0.0.1"],
        check=True, capture_output=True,
    )  # fmt: skip
    return cert, key


def render_nginx_conf(run_dir, **values):
    text = (PROJECT_ROOT / "deploy" / "nginx.conf").read_text()
    for name, value in {"RUN_DIR": run_dir, **values}.items():
        text = text.replace("{{ " + name + " }}", str(value))
    assert "{{" not in text, "a placeholder of deploy/nginx.conf was left unfilled"
    return text


class Nginx:
    """nginx in the foreground, every file it writes under run_dir (no root paths)."""

    def __init__(self, run_dir, upstream, max_body="1m", export_spool_max="4096m"):
        self.run_dir = Path(run_dir)
        self.run_dir.mkdir(parents=True, exist_ok=True)
        self.cert, key = make_certificate(self.run_dir)
        self.port = free_port()
        conf = self.run_dir / "nginx.conf"
        conf.write_text(
            render_nginx_conf(
                self.run_dir, LISTEN=f"127.0.0.1:{self.port}", SERVER_NAME=PUBLIC_HOST, CERT=self.cert,
                CERT_KEY=key, UPSTREAM=f"{upstream[0]}:{upstream[1]}", MAX_BODY=max_body,
                EXPORT_SPOOL_MAX=export_spool_max,
            )
        )  # fmt: skip
        # Running as root, nginx's workers would switch to "nobody", who cannot read the test's files.
        globals_ = "daemon off;" + (" user root;" if os.geteuid() == 0 else "")
        command = [NGINX, "-p", str(self.run_dir), "-c", str(conf), "-g", globals_]
        command += ["-e", str(self.run_dir / "error.log")]
        with open(self.run_dir / "stderr.log", "w") as log:  # the child keeps its own descriptor
            self.proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=log)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError("nginx exited: " + (self.run_dir / "stderr.log").read_text())
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return
            except OSError:
                time.sleep(0.05)
        raise AssertionError("nginx did not start listening")

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


class Visitor:
    """A browser-like client of the deployment: its cookies, and every request it makes.

    All requests of the deployment tests are built by headers() and request() here: when
    accounts land, add the session cookie or `Authorization: Bearer ...` in headers().
    """

    def __init__(self, port, cert, host=PUBLIC_HOST, tls=True, source=CLIENT_ADDRESS, token=None):
        self.port, self.host, self.tls, self.source = port, host, tls, source
        self.context = ssl.create_default_context(cafile=str(cert)) if tls else None
        self.cookies = {}
        self.token = token  # an API token, sent as Authorization: Bearer on every request

    @property
    def origin(self):
        return f"{'https' if self.tls else 'http'}://{self.host}:{self.port}"

    def headers(self, extra=None):
        headers = {"Host": f"{self.host}:{self.port}"}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        return {**headers, **(extra or {})}

    def sign_in(self, username, password, extra=None):
        """Through the sign-in form, as a browser would (with its Referer): (status, headers)."""
        _status, _headers, html = self.get("/login")
        token = html.split('name="csrf_token" type="hidden" value="', 1)[1].split('"', 1)[0]
        form = urlencode({"username": username, "password": password, "csrf_token": token}).encode()
        headers = {"Content-Type": "application/x-www-form-urlencoded", "Referer": f"{self.origin}/login"}
        status, answer, _html = self.request("POST", "/login", {**headers, **(extra or {})}, form)
        return status, answer

    def connect(self, timeout=10, receive_buffer=None):
        """An open (TLS) socket to the deployment, from the visitor's own address."""
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.settimeout(timeout)
        if receive_buffer:  # a small window: the server can only send as fast as we read
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, receive_buffer)
        sock.bind((self.source, 0))
        sock.connect(("127.0.0.1", self.port))
        return self.context.wrap_socket(sock, server_hostname="127.0.0.1") if self.tls else sock

    def request_bytes(self, method, path, extra=None, body=b""):
        headers = self.headers({"Connection": "close", **(extra or {})})
        if body:
            headers["Content-Length"] = str(len(body))
        lines = [f"{method} {path} HTTP/1.1", *(f"{k}: {v}" for k, v in headers.items()), "", ""]
        return "\r\n".join(lines).encode() + body

    def send(self, method, path, extra=None, body=b"", timeout=10, receive_buffer=None):
        """Send a request; the started response (read its body with .read()), and the socket."""
        sock = self.connect(timeout, receive_buffer)
        sock.sendall(self.request_bytes(method, path, extra, body))
        response = http.client.HTTPResponse(sock, method=method)
        response.begin()
        return response, sock

    def request(self, method, path, extra=None, body=b"", timeout=10):
        """(status, headers, text) of one request; keeps the cookies it sets, as a browser does."""
        response, sock = self.send(method, path, extra, body, timeout)
        try:
            data = response.read().decode("utf-8", "replace")
        finally:
            sock.close()
        for header in response.headers.get_all("Set-Cookie") or []:
            name, _, rest = header.partition("=")
            self.cookies[name] = rest.split(";", 1)[0]
        return response.status, response.headers, data

    def get(self, path, extra=None, timeout=10):
        return self.request("GET", path, extra, timeout=timeout)
