"""Helpers for tests that run the real thing: a migrated SQLite file, the flask command, gunicorn."""

import atexit
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


def app_env(db_path, instance, **extra):
    """The environment a deployment gets: its own file, instance folder and key; nothing inherited
    that would point it elsewhere (APP_CONFIG, TEST_DATABASE_URL)."""
    env = {k: v for k, v in os.environ.items() if k not in ("APP_CONFIG", "TEST_DATABASE_URL", "PORT")}
    env.update(
        DATABASE_URL=f"sqlite:///{db_path}",
        INSTANCE_PATH=str(instance),
        SECRET_KEY="test-deployment-key-" + "k" * 32,  # production wants 32 or more
        PYTHONUNBUFFERED="1",
        # Cheap password hashes: load tests sign in a dozen clients on a 2-core machine.
        ARGON2_TIME_COST="1",
        ARGON2_MEMORY_COST_KIB="8192",
        ARGON2_PARALLELISM="1",
        **extra,
    )
    return env


def flask(env, *args, timeout=60, stdin=None):
    """Run the flask command as an operator would, from the project root."""
    return subprocess.run(
        [str(BIN / "flask"), *args],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        input=stdin,
    )


OPERATOR = ("operator", "operator@example.com", "operator's long passphrase")


def create_admin(env, account=OPERATOR):
    """The first admin, made the way the README tells an operator to; returns (username, password)."""
    username, email, password = account
    result = flask(env, "create-admin", username, email, "--password-stdin", stdin=password + "\n")
    assert result.returncode == 0, result.stdout + result.stderr
    return username, password


_template = {}


def migrated_database(tmp_path, name="app.db"):
    """A fresh SQLite file at tmp_path/name made by `flask db upgrade` (run once, then copied)."""
    if "path" not in _template:
        folder = Path(tempfile.mkdtemp(prefix="migrated-"))
        atexit.register(shutil.rmtree, folder, ignore_errors=True)
        result = flask(app_env(folder / "app.db", folder / "instance"), "db", "upgrade")
        assert result.returncode == 0, result.stderr
        _template["path"] = folder / "app.db"
    path = tmp_path / name
    shutil.copyfile(_template["path"], path)
    return path


LISTENING = re.compile(r"Listening at: http://([\d.]+):(\d+)")


class Gunicorn:
    """gunicorn -c gunicorn.conf.py wsgi:app on a port the OS picks, its log in a file."""

    def __init__(self, env, log_path, workers=4):
        self.log_path = log_path
        self.workers = workers
        env = {**env, "PORT": "127.0.0.1:0", "WEB_CONCURRENCY": str(workers)}
        with open(log_path, "w") as log:  # the child keeps its own copy of the descriptor
            self.proc = subprocess.Popen(
                [str(BIN / "gunicorn"), "-c", "gunicorn.conf.py", "wsgi:app"],
                cwd=PROJECT_ROOT,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        self.address = self._wait_for(LISTENING, "gunicorn to listen")
        self.wait_for_ready(workers)

    def text(self):
        return Path(self.log_path).read_text()

    def _wait_for(self, pattern, what, timeout=60):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            match = pattern.search(self.text())
            if match:
                return match.group(1), int(match.group(2))
            if self.proc.poll() is not None:
                raise AssertionError(f"gunicorn exited while waiting for {what}:\n{self.text()}")
            time.sleep(0.05)
        raise AssertionError(f"timed out waiting for {what}:\n{self.text()}")

    def worker_pids(self):
        """The master's live children, read from /proc (Linux)."""
        pids = []
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rsplit(")", 1)[1].split()
            except (OSError, IndexError):
                continue
            if int(fields[1]) == self.proc.pid and fields[0] != "Z":
                pids.append(int(stat.parent.name))
        return pids

    def wait_for_ready(self, total, timeout=60):
        """Until `total` workers in all have run post_fork (gunicorn.conf.py logs "worker ready")."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.text().count("worker ready") >= total:
                return
            if self.proc.poll() is not None:
                raise AssertionError(f"gunicorn exited:\n{self.text()}")
            time.sleep(0.05)
        raise AssertionError(f"timed out waiting for {total} workers to be ready:\n{self.text()}")

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
