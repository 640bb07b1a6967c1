"""Start and stop gunicorn servers for the bench, each on a free loopback port."""

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
GUNICORN = str(Path(sys.executable).with_name("gunicorn"))


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def get(url, timeout=10, headers=None):
    """(status, body) of a GET; HTTP errors are answers too."""
    try:
        with urllib.request.urlopen(
            urllib.request.Request(url, headers=headers or {}), timeout=timeout
        ) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


class Server:
    """A gunicorn process serving one app; `with Server(...) as s:` gives s.url, stops it after."""

    def __init__(self, app, workers, env=None, config="gunicorn_plain.py", cwd=BENCH, log=None):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        command = [GUNICORN, "-c", str(BENCH / config), "-w", str(workers), "-b", f"127.0.0.1:{self.port}"]
        self.log = open(log or os.devnull, "ab")  # noqa: SIM115 - closed in stop()
        self.process = subprocess.Popen(
            [*command, app],
            cwd=cwd,
            env={**os.environ, **(env or {})},
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def wait(self, path="/", timeout=60):
        """Wait until the server answers; False if it exited or never answered."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                return False
            try:
                get(self.url + path, timeout=5)
                return True
            except OSError:
                time.sleep(0.2)
        return False

    def stop(self):
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGQUIT)  # gunicorn's quick shutdown: no graceful wait
            try:
                self.process.wait(timeout=3)
            except subprocess.TimeoutExpired:
                # The master and its workers are this server's own process group (start_new_session).
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        self.log.close()

    def __enter__(self):
        return self

    def __exit__(self, *_exc):
        self.stop()


def flask(args, env, check=True, stdin=None):
    """Run a `flask` command of the project (db upgrade, seed); returns the finished process."""
    command = [str(Path(sys.executable).with_name("flask")), *args]
    environment = {**os.environ, **env}
    return subprocess.run(
        command, cwd=ROOT, env=environment, check=check, capture_output=True, text=True, input=stdin
    )
