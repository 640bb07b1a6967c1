"""Prometheus metrics and GET /metrics.

Under gunicorn the start-up (gunicorn.conf.py) sets PROMETHEUS_MULTIPROC_DIR before any worker
starts: every worker then writes its values to files there and a scrape, whichever worker answers
it, adds up the files of every worker, dead ones included, so counts never go backwards. Without
that directory (tests, `flask run`) the app has a registry of its own in this process.

Labels take values from small fixed sets only (the route's endpoint name, never the path; the
method; the status), so no id or unknown path can create a series.
"""

import hashlib
import hmac
import os

from flask import Blueprint, Response, abort, current_app, request
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.exposition import CONTENT_TYPE_PLAIN_0_0_4
from prometheus_client.multiprocess import MultiProcessCollector
from sqlalchemy.exc import SQLAlchemyError

from ..counters import totals
from ..extensions import db

bp = Blueprint("metrics", __name__)

METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
DB_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)


def multiprocess_dir():
    return os.environ.get("PROMETHEUS_MULTIPROC_DIR") or None


class Metrics:
    """The app's series. In multiprocess mode they belong to no registry: the files are the truth."""

    def __init__(self):
        self._series = {}  # (endpoint, method, status) -> the children its request updates
        self.registry = None if multiprocess_dir() else CollectorRegistry()
        if self.registry is not None:
            self.registry.register(KeptCounts())
        options = {"registry": self.registry}
        self.requests = Counter(
            "myapp_http_requests",
            "Requests answered, by endpoint (the route's name), method and status.",
            ["endpoint", "method", "status"],
            **options,
        )
        self.latency = Histogram(
            "myapp_http_request_duration_seconds",
            "Time from the app receiving a request to its response being done.",
            ["endpoint"],
            buckets=LATENCY_BUCKETS,
            **options,
        )
        self.db_time = Histogram(
            "myapp_http_request_db_seconds",
            "Time a request spent in database statements.",
            ["endpoint"],
            buckets=DB_BUCKETS,
            **options,
        )
        self.in_progress = Gauge(
            "myapp_http_requests_in_progress",
            "Requests being served now (live workers only).",
            multiprocess_mode="livesum",
            **options,
        )
        self.sign_in_failures = Counter(
            "myapp_sign_in_failures", "Sign-in attempts refused for a wrong name or password.", **options
        )
        self.throttled = Counter(
            "myapp_throttled", "Requests refused with 429 by the sign-in throttle.", **options
        )

    def observe_request(self, endpoint, method, status, duration, db_seconds):
        if method not in METHODS:
            method = "other"  # any word is a valid HTTP method: only known ones get a label
        key = (endpoint, method, status)
        series = self._series.get(key)
        if series is None:  # a few hundred keys at most: every label comes from a fixed set
            series = self._series[key] = (
                self.requests.labels(endpoint, method, str(status)),
                self.latency.labels(endpoint),
                self.db_time.labels(endpoint),
            )
        requests, latency, db_time = series
        requests.inc()
        latency.observe(duration)
        db_time.observe(db_seconds)

    def render(self):
        """The text format: this registry's, or in multiprocess mode the sum of every worker's files."""
        registry = self.registry
        if registry is None:
            registry = CollectorRegistry()
            MultiProcessCollector(registry)
            registry.register(KeptCounts())
        return generate_latest(registry)


class KeptCounts:
    """The numbers of users and posts, read from the kept counts at scrape time (one small query)."""

    def collect(self):
        try:
            counts = totals()
        except SQLAlchemyError as error:
            db.session.rollback()
            current_app.logger.warning("metrics: kept counts not read: %s", type(error).__name__)
            return
        for name, value in counts.items():
            yield GaugeMetricFamily(f"myapp_{name}", f"Rows in the {name} table (the kept count).", value)


def app_metrics():
    return current_app.extensions["metrics"]


def record_sign_in_failure():
    """For the sign-in view: a wrong name or password."""
    app_metrics().sign_in_failures.inc()


def record_throttled():
    """For the sign-in view: an attempt answered 429 by the throttle."""
    app_metrics().throttled.inc()


def token_matches(header_value, token):
    """`Bearer <token>`, compared in constant time (digests, so not even the length leaks)."""
    scheme, _, given = (header_value or "").partition(" ")
    if not token or scheme.lower() != "bearer":
        return False
    digest = hashlib.sha256
    return hmac.compare_digest(digest(given.strip().encode()).digest(), digest(token.encode()).digest())


@bp.get("/metrics")
def index():
    """The Prometheus text format; 404, as if there were no such page, without the right token."""
    if not token_matches(request.headers.get("Authorization"), current_app.config.get("METRICS_TOKEN")):
        abort(404)
    response = Response(app_metrics().render(), content_type=CONTENT_TYPE_PLAIN_0_0_4)
    response.headers["Cache-Control"] = "no-store"
    return response
