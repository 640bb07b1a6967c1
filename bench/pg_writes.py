"""POST /api/posts on PostgreSQL through two app instances (gunicorn, 3 workers each), in turns:

    before     the design this branch started from (a git ref: one row_counts row, no lock order)
    after      this tree: sharded totals, users locked first
    no-counts  this tree with the count-keeping events removed: the upper bound

    python bench/pg_writes.py                 # 3 rounds of 8 s per variant
    python bench/pg_writes.py --rounds 5 --duration 10 --before-ref f25ecfc

Each round runs every variant once, in alternation, on a freshly migrated and seeded database, with
one wrk against each instance at once; the report gives the median req/s of the rounds and the
ratios. The machine may be shared: only medians of alternating rounds mean anything.
"""

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

import psycopg
from sqlalchemy.engine import make_url

sys.path.insert(0, str(Path(__file__).resolve().parent))

import wrk  # bench/ is not a package: its modules are imported from sys.path
from servers import BENCH, ROOT, Server

SCRIPT = str(BENCH / "post_posts.lua")


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--database-url", default="postgresql+psycopg://postgres@127.0.0.1:5432/wt_pgscale_bench"
    )
    parser.add_argument("--before-ref", default="f25ecfc", help="git ref of the design to compare with")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--duration", type=int, default=8, help="seconds of wrk per variant and round")
    parser.add_argument("--connections", type=int, default=8, help="wrk connections per instance")
    parser.add_argument("--users", type=int, default=1000)
    parser.add_argument("--workers", type=int, default=3)
    return parser.parse_args()


def recreate(url):
    name = make_url(url).database
    admin = (
        make_url(url).set(drivername="postgresql", database="postgres").render_as_string(hide_password=False)
    )
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def flask(tree, env, *args):
    command = [str(Path(sys.executable).with_name("flask")), *args]
    subprocess.run(command, cwd=tree, env=env, check=True, capture_output=True, text=True)


def run_variant(name, tree, app, args):
    """Fresh database, two instances, one wrk against each at once; the summed req/s."""
    recreate(args.database_url)
    env = {"DATABASE_URL": args.database_url, "SECRET_KEY": "bench-only", "APP_CONFIG": "production"}
    env["INSTANCE_PATH"] = tempfile.mkdtemp(prefix=f"pgbench-{name}-")
    full_env = {**os.environ, **env, "BENCH_USERS": str(args.users)}
    flask(tree, full_env, "db", "upgrade")
    flask(tree, full_env, "seed", "--users", str(args.users), "--posts-per-user", "3")
    servers = [Server(app, args.workers, env=env, config="gunicorn_app.py", cwd=tree) for _ in range(2)]
    try:
        for server in servers:
            assert server.wait("/healthz"), f"{name}: the server did not start"
        results = [None, None]

        def load(i):
            results[i] = wrk.run(
                servers[i].url,
                args.duration,
                threads=1,
                connections=args.connections,
                script=SCRIPT,
                env=full_env,
            )

        threads = [threading.Thread(target=load, args=(i,)) for i in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        for server in servers:
            server.stop()
    errors = sum(r["errors"] for r in results)
    return sum(r["rps"] for r in results), max(r["p99"] for r in results), errors


def main():
    args = parse_args()
    if not wrk.available():
        sys.exit(wrk.INSTALL_HINT)
    before = Path(tempfile.mkdtemp(prefix="pgbench-before-"))
    archive = subprocess.run(["git", "archive", args.before_ref], cwd=ROOT, check=True, capture_output=True)
    subprocess.run(["tar", "-x", "-C", str(before)], input=archive.stdout, check=True)
    variants = [
        ("before", before, "wsgi:app"),
        ("after", ROOT, "wsgi:app"),
        ("no-counts", ROOT, "bench.nocounts_app:app"),
    ]
    seen = {name: [] for name, _t, _a in variants}
    for round_ in range(1, args.rounds + 1):
        for name, tree, app in variants:
            rps, p99, errors = run_variant(name, tree, app, args)
            seen[name].append(rps)
            print(
                f"round {round_} {name:>9}: {rps:7.1f} req/s, p99 {p99:7.1f} ms, {errors} errors", flush=True
            )
    medians = {name: statistics.median(values) for name, values in seen.items()}
    print("\nmedian req/s: " + ", ".join(f"{name} {rps:.1f}" for name, rps in medians.items()))
    print(f"after / before:    {medians['after'] / medians['before']:.2f}")
    print(f"after / no-counts: {medians['after'] / medians['no-counts']:.2f}  (goal: at least 0.85)")
    print(f"before / no-counts: {medians['before'] / medians['no-counts']:.2f}")


if __name__ == "__main__":
    main()
