"""/metrics under real gunicorn workers: counts are exact whichever worker answers the scrape, and do
not go backwards when a worker is killed and replaced; the start-up owns the metrics directory."""

import http.client
import json
import os
import re
import signal
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from prometheus_client.mmap_dict import MmapedDict, mmap_key
from prometheus_client.parser import text_string_to_metric_families

from .conftest import ON_POSTGRES
from .procs import Gunicorn, app_env, migrated_database

pytestmark = [
    pytest.mark.skipif(ON_POSTGRES, reason="serves a migrated SQLite file (tests/procs.py); PostgreSQL run"),
    pytest.mark.slow,
]

TOKEN = "metrics-test-token-0123456789"
HEALTHZ_LABELS = (("endpoint", "health.healthz"), ("method", "GET"), ("status", "200"))
HEALTHZ = ("myapp_http_requests_total", HEALTHZ_LABELS)
LISTED_DIR = re.compile(r"metrics of all workers kept in (\S+)")


def send(server, path, request_id=None, headers=None):
    """Every request these tests make goes through here: (status, body). After accounts land, a
    session cookie or bearer token would be added in this one place (/healthz and /metrics,
    which has its own token, stay public)."""
    headers = dict(headers or {})
    if request_id:
        headers["X-Request-ID"] = request_id
    conn = http.client.HTTPConnection(*server.address, timeout=15)
    try:
        conn.request("GET", path, headers=headers)
        response = conn.getresponse()
        return response.status, response.read().decode()
    finally:
        conn.close()


def scrape(server, request_id):
    status, text = send(server, "/metrics", request_id, {"Authorization": f"Bearer {TOKEN}"})
    assert status == 200, status
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def answered_by(server, request_ids, timeout=10):
    """{request id: pid of the worker that answered}, from the app's JSON lines in gunicorn's log."""
    deadline = time.monotonic() + timeout
    while True:
        lines = [json.loads(line) for line in server.text().splitlines() if line.startswith("{")]
        pids = {line["request_id"]: line["pid"] for line in lines if line.get("logger") == "myapp.request"}
        if set(request_ids) <= set(pids) or time.monotonic() > deadline:
            return {rid: pids.get(rid) for rid in request_ids}
        time.sleep(0.05)


def hit_healthz(server, prefix, n):
    """n requests from 6 concurrent clients, so that every worker takes some."""
    ids = [f"{prefix}-{i}" for i in range(n)]
    with ThreadPoolExecutor(6) as pool:
        statuses = list(pool.map(lambda rid: send(server, "/healthz", rid)[0], ids))
    assert statuses == [200] * n
    return set(answered_by(server, ids).values())


def assert_every_worker_reports(server, expected, prefix):
    """Scrape until at least two different workers have answered; each must report `expected`."""
    seen = set()
    for k in range(40):
        request_id = f"{prefix}-{k}"
        assert scrape(server, request_id)[HEALTHZ] == expected
        seen.add(answered_by(server, [request_id])[request_id])
        if len(seen) >= 2 and k >= 5:
            return seen
    raise AssertionError(f"every scrape was answered by the same worker {seen}")


def stale_counter(directory):
    """A counter file a previous run left behind: 1000 healthz requests by a long-gone pid."""
    stale = MmapedDict(str(directory / "counter_999999.db"))
    key = mmap_key(
        "myapp_http_requests",
        "myapp_http_requests_total",
        ["endpoint", "method", "status"],
        ["health.healthz", "GET", "200"],
        "Requests answered, by endpoint (the route's name), method and status.",
    )
    stale.write_value(key, 1000.0, 0.0)
    stale.close()


@pytest.fixture
def db_path(tmp_path):
    return migrated_database(tmp_path)


def environment(db_path, tmp_path, **extra):
    env = app_env(db_path, tmp_path / "instance", METRICS_TOKEN=TOKEN, **extra)
    if "PROMETHEUS_MULTIPROC_DIR" not in extra:
        env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    return env


def test_three_workers_count_exactly_and_never_backwards(db_path, tmp_path):
    directory = tmp_path / "metrics"
    directory.mkdir()
    stale_counter(directory)  # the start-up must empty the directory
    env = environment(db_path, tmp_path, PROMETHEUS_MULTIPROC_DIR=str(directory))
    server = Gunicorn(env, tmp_path / "gunicorn.log", workers=3)
    try:
        assert not (directory / "counter_999999.db").exists()
        n = 60
        workers = hit_healthz(server, "first", n)
        assert len(workers) >= 2, f"the requests were not spread over the workers: {workers}"
        assert_every_worker_reports(server, n, "scrape")

        # Kill a worker that answered some: its counts stay, gunicorn replaces it.
        victim = next(iter(workers))
        os.kill(victim, signal.SIGKILL)
        server.wait_for_ready(3 + 1)
        assert victim not in server.worker_pids() and len(server.worker_pids()) == 3
        assert_every_worker_reports(server, n, "after-kill")
        # child_exit marked it dead: its live gauge (requests in progress) is gone, its counters stay.
        assert not (directory / f"gauge_livesum_{victim}.db").exists()
        assert (directory / f"counter_{victim}.db").exists()

        m = 30
        hit_healthz(server, "second", m)
        found = scrape(server, "final")
        assert found[HEALTHZ] == n + m
        assert found[("myapp_http_requests_in_progress", ())] == 1  # the scrape itself
        assert found[("myapp_users", ())] == 0 and found[("myapp_posts", ())] == 0
    finally:
        server.stop()
    assert '"status": 5' not in server.text() and "Traceback" not in server.text()


def test_without_a_directory_the_start_up_makes_one_and_removes_it(db_path, tmp_path):
    server = Gunicorn(environment(db_path, tmp_path), tmp_path / "gunicorn.log", workers=2)
    try:
        directory = Path(LISTED_DIR.search(server.text()).group(1))
        assert directory.is_dir()
        hit_healthz(server, "req", 20)
        assert_every_worker_reports(server, 20, "scrape")
    finally:
        server.stop()
    assert not directory.exists()
