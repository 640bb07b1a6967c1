"""Run wrk against a URL and read req/s, latency percentiles and errors from its report."""

import os
import re
import shutil
import subprocess
import time

INSTALL_HINT = "wrk is not installed: on Debian or Ubuntu, `apt-get install -y wrk`."

UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}


def available():
    return shutil.which("wrk") is not None


def _ms(text):
    number, unit = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text).groups()
    return float(number) * UNITS[unit]


def parse(output):
    """{'rps', 'p50', 'p99', 'requests', 'errors'} from wrk --latency output."""
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))
    p50 = _ms(re.search(r"^\s+50%\s+(\S+)", output, re.M).group(1))
    p99 = _ms(re.search(r"^\s+99%\s+(\S+)", output, re.M).group(1))
    requests = int(re.search(r"(\d+) requests in", output).group(1))
    errors = 0
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    if non_2xx:
        errors += int(non_2xx.group(1))
    socket_errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output)
    if socket_errors:
        errors += sum(int(n) for n in socket_errors.groups())
    return {"rps": rps, "p50": p50, "p99": p99, "requests": requests, "errors": errors}


def run(url, duration, threads=2, connections=16, script=None, env=None, headers=None):
    # A fresh run id each time, so that names the POST script makes never repeat across runs.
    env = {**(env or os.environ), "BENCH_RUN": str(time.time_ns())}
    command = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{duration}s", "--latency", "--timeout", "10s"]
    if script:
        command += ["-s", script]
    for name, value in (headers or {}).items():  # the session cookie or API token of a signed-in client
        command += ["-H", f"{name}: {value}"]
    result = subprocess.run([*command, url], capture_output=True, text=True, env=env, timeout=duration + 60)
    if result.returncode != 0:
        raise RuntimeError(f"wrk failed: {result.stderr or result.stdout}")
    return parse(result.stdout)
