"""What metrics and the JSON request log cost: /users throughput before and after them, under gunicorn.

    python bench/observability.py                       # 10k users, 2 workers, 5 rounds of 3 s
    python bench/observability.py --base <rev> --rounds 3 --duration 5

Serves the same seeded database three ways and loads them with wrk in alternating rounds (A, B, C,
A, B, C...) so that a busy machine's drift hits all alike; prints the medians and the ratios of
req/s and of the workers' CPU time per request (read from /proc: on a shared machine, other jobs
move req/s a lot more than they move the CPU a request costs):

- before, no access log: the code at --base (default: the commit before myapp/observability
  arrived), as bench/run.py serves the app;
- before, gunicorn's access log on: what production wrote per request until now;
- after: this tree, with /metrics in multiprocess mode and one JSON line per request to a file.
"""

import argparse
import os
import shutil
import statistics
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import wrk
from servers import ROOT, Server, flask

BASE = "before, no access log"


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", help="git revision without observability (default: found from history)")
    parser.add_argument("--users", type=int, default=10_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--duration", type=int, default=3, help="seconds per wrk run")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--workdir", default="/tmp/myapp-bench-observability")
    return parser.parse_args()


def git(*args):
    return subprocess.run(["git", "-C", str(ROOT), *args], check=True, capture_output=True, text=True).stdout


def base_revision():
    added = git("log", "--diff-filter=A", "--format=%H", "--", "myapp/observability/__init__.py").split()
    if not added:
        raise SystemExit("myapp/observability is not in this history: pass --base")
    return added[-1] + "^"


def workers_cpu_seconds(master_pid):
    """User + system CPU time of the gunicorn master's children so far (Linux /proc)."""
    total = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if int(fields[1]) == master_pid:
            total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / os.sysconf("SC_CLK_TCK")


def measure(server, url, duration):
    before = workers_cpu_seconds(server.process.pid)
    result = wrk.run(url, duration)
    result["cpu_ms"] = (workers_cpu_seconds(server.process.pid) - before) * 1000 / max(1, result["requests"])
    return result


def export(revision, directory):
    """The tree at `revision` in `directory` (git archive: no worktree, no checkout)."""
    shutil.rmtree(directory, ignore_errors=True)
    directory.mkdir(parents=True)
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", revision], check=True, capture_output=True)
    subprocess.run(["tar", "-x", "-C", str(directory)], input=archive.stdout, check=True)


def main():
    args = parse_args()
    if not wrk.available():
        raise SystemExit(wrk.INSTALL_HINT)
    workdir = Path(args.workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    revision = git("rev-parse", "--short", args.base or base_revision()).strip()
    before_root = workdir / "before"
    export(revision, before_root)
    data = workdir / "data"
    shutil.rmtree(data, ignore_errors=True)
    data.mkdir()
    env = {
        "DATABASE_URL": f"sqlite:///{data / 'app.db'}",
        "INSTANCE_PATH": str(data),
        "SECRET_KEY": "bench-only",
        "APP_CONFIG": "production",
        "WEB_CONCURRENCY": str(args.workers),
        "METRICS_TOKEN": "bench-only-token",
    }
    flask(["db", "upgrade"], env)
    flask(["seed", "--users", str(args.users), "--posts-per-user", "3"], env)
    # That tree's bench settings: its gunicorn.conf.py without the access log; then the same with it
    # (that file finds the project's settings from its own __file__).
    before_conf = str(before_root / "bench" / "gunicorn_app.py")
    access_conf = workdir / "gunicorn_accesslog.py"
    access_conf.write_text(
        f"__file__ = {before_conf!r}\n"
        "exec(compile(open(__file__).read(), __file__, 'exec'))\n"
        "accesslog = '-'\n"
    )
    logs = {name: str(workdir / f"{name}.log") for name in ("before", "access", "after")}
    for path in logs.values():
        Path(path).unlink(missing_ok=True)
    n = args.workers
    with (
        Server("wsgi:app", n, env=env, config=before_conf, cwd=before_root, log=logs["before"]) as a,
        Server("wsgi:app", n, env=env, config=str(access_conf), cwd=before_root, log=logs["access"]) as b,
        Server("wsgi:app", n, env=env, config="gunicorn_app.py", cwd=ROOT, log=logs["after"]) as c,
    ):
        targets = {BASE: a, "before, gunicorn access log": b, "after (metrics + JSON log)": c}
        for server in targets.values():
            if not server.wait("/healthz"):
                raise SystemExit(f"a server did not start; see {workdir}/*.log")
        runs = {name: [] for name in targets}
        order = list(targets)
        for k in range(args.rounds):
            # A B C, then C B A: no server always runs right after another's load.
            for name in order if k % 2 == 0 else order[::-1]:
                server = targets[name]
                runs[name].append(measure(server, f"{server.url}/users?per_page=50", args.duration))
    report(runs, revision, args, logs["after"])


def report(runs, revision, args, after_log):
    def median(name, key):
        return statistics.median(r[key] for r in runs[name])

    def each(rs, key, digits):
        return ", ".join(f"{r[key]:.{digits}f}" for r in rs)

    print(f"/users?per_page=50, {args.users} users, {args.workers} workers, base {revision}")
    print(f"medians of {args.rounds} alternating wrk runs of {args.duration} s (each run in brackets)")
    for name, rs in runs.items():
        rps, cpu = median(name, "rps"), median(name, "cpu_ms")
        print(
            f"  {name:28} {rps:5.0f} req/s ({rps / median(BASE, 'rps'):.3f}x) [{each(rs, 'rps', 0)}]"
            f"  CPU {cpu:.3f} ms/request ({cpu / median(BASE, 'cpu_ms'):.3f}x) [{each(rs, 'cpu_ms', 2)}]"
            f"  errors {sum(r['errors'] for r in rs)}"
        )
    # Each round's runs are minutes apart at most: their ratios cancel most of the machine's drift.
    for name in list(runs)[1:]:
        paired = [r["cpu_ms"] / b["cpu_ms"] for r, b in zip(runs[name], runs[BASE], strict=True)]
        ratio = statistics.median(paired)
        print(f"  {name}: CPU per request vs {BASE}, median of the rounds' ratios {ratio:.3f}x")
    with open(after_log) as log:
        lines = sum(1 for line in log if line.startswith("{"))
    print(f"  the after server wrote {lines} JSON lines to {after_log}")


if __name__ == "__main__":
    main()
