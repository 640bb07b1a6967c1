"""gunicorn settings: `gunicorn -c gunicorn.conf.py wsgi:app` (what `make run` does after migrating)."""

import glob
import os
import shutil
import tempfile

_port = os.environ.get("PORT", "8000")
# PORT may be a bare port (bound on loopback) or a full host:port.
bind = _port if ":" in _port else f"127.0.0.1:{_port}"
# SQLite has one writer at a time: a few workers keep reads parallel without queueing writers long.
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
# gthread: each worker serves requests from a few threads while its main thread keeps telling the
# arbiter it is alive, so a streamed export that takes longer than `timeout` (a million users: more
# than 30 s even for a fast client) is not killed half-way, as a sync worker is after `timeout`
# seconds in one request. Slow and stalled clients are nginx's to hold (deploy/nginx.conf), not ours.
worker_class = os.environ.get("GUNICORN_WORKER_CLASS", "gthread")
threads = int(os.environ.get("GUNICORN_THREADS", "4"))
# Which X-Forwarded-* headers to believe is the app's PROXY_COUNT (werkzeug's ProxyFix) alone;
# by default gunicorn would also take X-Forwarded-Proto from any client on loopback.
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "")
# The app writes one JSON line per request to stdout (myapp/observability): that is the access log.
# gunicorn's own would say the same again; turned on (--access-logfile -) it carries the same id.
accesslog = None
access_log_format = '%(h)s %(l)s %(u)s %(t)s "%(r)s" %(s)s %(b)s "%(f)s" "%(a)s" %({x-request-id}o)s'
errorlog = "-"
# gunicorn 27's control socket defaults to one path per user (~/.gunicorn/gunicorn.ctl), which two
# instances on one machine would fight over; set GUNICORN_CONTROL_SOCKET to a path to turn it on.
control_socket = os.environ.get("GUNICORN_CONTROL_SOCKET", "")
control_socket_disable = not control_socket
# No preload_app: each worker imports the app after the fork, so nothing the app opens at import
# can be shared between processes. post_fork below still guards the --preload case.


def post_fork(server, worker):
    """Drop any connection inherited from the master: a SQLite handle must not cross a fork."""
    from myapp.extensions import db
    from myapp.snapshot import take_snapshot_now

    app = worker.app.wsgi()
    with app.app_context():
        # close=False: the parent's connections belong to the parent; closing them here would
        # send its socket a goodbye (PostgreSQL) or release its locks (SQLite).
        db.engine.dispose(close=False)
        note = take_snapshot_now(app)
    server.log.info("worker ready (pid %s)%s", worker.pid, note)


def on_starting(server):
    """Before any worker exists: the directory where every worker keeps its metrics (prometheus-client's
    multiprocess mode), emptied of a previous run's files so that counts start from zero."""
    path = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if path:
        os.makedirs(path, mode=0o700, exist_ok=True)
        for stale in glob.glob(os.path.join(path, "*.db")):
            os.remove(stale)
    else:
        path = server.metrics_dir_made = tempfile.mkdtemp(prefix="myapp-metrics-")
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = path  # inherited by every worker forked from here
    server.log.info("metrics of all workers kept in %s", path)


def child_exit(server, worker):
    """A worker died or was replaced: its counters stay (counts never go backwards), its live
    gauges (requests in progress) go."""
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)


def on_exit(server):
    made = getattr(server, "metrics_dir_made", None)
    if made:
        shutil.rmtree(made, ignore_errors=True)
