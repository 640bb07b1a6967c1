"""The bench's HTTP client for bench/million.py: timed GETs over a keep-alive connection."""

import html
import http.client
import json
import statistics
import time
import urllib.parse

FIRST_BYTES = 64 * 1024
NEXT_LINK = 'rel="next" href="'


class Client:
    """Requests to one server; credentials maps a name ("cookie", "token") to the headers it sends."""

    def __init__(self, base_url, credentials):
        parts = urllib.parse.urlsplit(base_url)
        self.host, self.port = parts.hostname, parts.port
        self.credentials = credentials
        self.connection = None

    def connect(self, timeout=600):
        return http.client.HTTPConnection(self.host, self.port, timeout=timeout)

    def get(self, path, who):
        """(status, body) over the kept connection, opened again when the server closed it."""
        for attempt in (1, 2):
            if self.connection is None:
                self.connection = self.connect()
            try:
                self.connection.request("GET", path, headers=self.credentials[who])
                response = self.connection.getresponse()
                return response.status, response.read()
            except (http.client.HTTPException, ConnectionError):
                self.connection.close()
                self.connection = None
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    def first_bytes(self, path, who):
        """(status, b"") after reading at most FIRST_BYTES of the body; the connection is dropped."""
        connection = self.connect()
        try:
            connection.request("GET", path, headers=self.credentials[who])
            response = connection.getresponse()
            response.read(FIRST_BYTES) if response.status == 200 else response.read()
            return response.status, b""
        finally:
            connection.close()

    def resolve(self, target, who):
        """The path to time: a path, ("next", page) for the Next link on that page, or ("first", path)."""
        if isinstance(target, str) or target[0] == "first":
            return target if isinstance(target, str) else target[1]
        _status, body = self.get(target[1], who)
        text = body.decode()
        if NEXT_LINK not in text:
            return target[1]
        return html.unescape(text.split(NEXT_LINK, 1)[1].split('"', 1)[0])

    def time(self, target, who, warmup, requests, budget_seconds):
        """{'path', 'status', 'median', 'max', 'count'} of `requests` timed GETs (ms) after `warmup`
        untimed ones; a URL that has taken budget_seconds stops after 3 timed requests (a slow search
        would otherwise take minutes)."""
        path = self.resolve(target, who)
        fetch = self.first_bytes if isinstance(target, tuple) and target[0] == "first" else self.get
        statuses, times = set(), []
        deadline = time.perf_counter() + budget_seconds
        for n in range(warmup + requests):
            started = time.perf_counter()
            status, _body = fetch(path, who)
            elapsed = (time.perf_counter() - started) * 1000
            statuses.add(status)
            if n >= warmup:
                times.append(elapsed)
            if len(times) >= 3 and time.perf_counter() > deadline:
                break
        status = "/".join(str(s) for s in sorted(statuses))
        median, most = statistics.median(times), max(times)
        return {"path": path, "status": status, "median": median, "max": most, "count": len(times)}

    def download(self, path, who="cookie"):
        """The whole export, read as it streams: {'path', 'seconds', 'mb', 'lines', 'status'}."""
        connection = self.connect(timeout=3600)
        try:
            started = time.perf_counter()
            connection.request("GET", path, headers=self.credentials[who])
            response = connection.getresponse()
            size = lines = 0
            while chunk := response.read(1024 * 1024):
                size += len(chunk)
                lines += chunk.count(b"\n")
            seconds = time.perf_counter() - started
        finally:
            connection.close()
        return {"path": path, "status": response.status, "seconds": seconds, "mb": size / 1e6, "lines": lines}

    def post_json(self, path, body):
        connection = self.connect()
        try:
            headers = {"Content-Type": "application/json", **self.credentials["token"]}
            connection.request("POST", path, json.dumps(body), headers)
            response = connection.getresponse()
            answer = response.read()
            if response.status != 201:
                raise SystemExit(f"POST {path} answered {response.status}: {answer[:300]!r}")
            return json.loads(answer)
        finally:
            connection.close()
