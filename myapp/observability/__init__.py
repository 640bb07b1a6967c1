"""Observability (SPEC §16): /metrics for Prometheus, one JSON log line per request, request ids.

A request is started on Flask's request_started signal, which comes before every before_request
function whoever registered it (snapshot mode's refusals, sign-in redirects), so every request is
timed, counted and logged under its id. create_app calls init_observability before security and
the blueprints register theirs, so that stamp_response runs last of the app's after_request
functions and sees the final response.
"""

from time import perf_counter

from flask import current_app, g, request_started
from sqlalchemy import event

from ..extensions import csrf, db
from . import requestlog
from .metrics import Metrics, bp, record_sign_in_failure, record_throttled
from .requestlog import REQUEST_ID_HEADER, current_account_id, request_stats

__all__ = ["current_account_id", "init_observability", "record_sign_in_failure", "record_throttled"]


def init_observability(app):
    app.extensions["metrics"] = Metrics()
    if not app.testing:  # tests install the handler themselves, on a stream they read
        requestlog.install_json_logging(app)
    with app.app_context():
        engine = db.engine
    # The app's own engine only: a listener on Engine would time every engine in the process.
    event.listen(engine, "before_cursor_execute", requestlog.before_cursor_execute)
    event.listen(engine, "after_cursor_execute", requestlog.after_cursor_execute)
    request_started.connect(start_request, app)
    app.after_request(stamp_response)
    app.teardown_request(end_request)
    # /metrics is guarded by its own token, not by a session: no form, no CSRF token to check.
    csrf.exempt(bp)
    app.register_blueprint(bp)


def start_request(_app, **_extra):
    stats = request_stats()
    current_app.extensions["metrics"].in_progress.inc()
    stats.in_progress = True


def stamp_response(response):
    """Runs last of the app's after_request functions (registered first): sees the final response."""
    stats = request_stats()
    stats.status = response.status_code
    stats.account_id = current_account_id()
    response.headers[REQUEST_ID_HEADER] = stats.request_id
    if response.is_streamed and not response.direct_passthrough:
        # A streamed body (CSV exports) is produced after this; its queries count, and the request
        # is done when the server closes the response. (A file sent as is, static files, is done
        # now: the server never calls that response's close.)
        g._request_streamed = True
        response.call_on_close(Finisher(current_app._get_current_object(), stats))
    return response


def end_request(_error):
    stats = g.get("_request_stats")
    # None: a context pushed by hand (test_request_context), not a request served. Streamed: its
    # close does it (stream_with_context tears the request down twice, before and after the body).
    if stats is None or g.get("_request_streamed"):
        return
    if stats.account_id is None:
        stats.account_id = current_account_id()
    Finisher(current_app._get_current_object(), stats)()


class Finisher:
    """Counts and logs a finished request; needs no request context (a streamed one has none left)."""

    def __init__(self, app, stats):
        self.app, self.stats = app, stats

    def __call__(self):
        stats, metrics = self.stats, self.app.extensions["metrics"]
        duration = perf_counter() - stats.started
        metrics.observe_request(stats.endpoint, stats.method, stats.status or 500, duration, stats.db_seconds)
        if stats.in_progress:  # counted by start_request (unless the request never got that far)
            metrics.in_progress.dec()
        requestlog.log_request(stats, duration, self.app.config["SLOW_REQUEST_MS"])
        requestlog.request_done()
