"""The statements of one post create, straight into PostgreSQL with pgbench (no Python, no HTTP):

    before     INSERT the post, UPDATE the one row_counts row, UPDATE the author's post_count
    after      lock the author (FOR NO KEY UPDATE), INSERT, then one statement that updates
               post_count and upserts the client's row_counts shard (16 shards)
    no-counts  INSERT the post only: the upper bound

    python bench/pg_statements.py --rounds 5 --seconds 5 --clients 8

Alternating rounds on one database migrated and seeded by this tree; medians and ratios. Where
bench/pg_writes.py measures the whole app on a shared machine, this isolates what the database
does with the counts: the queue on one row that every writer waits in.
"""

import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from pg_writes import flask, recreate  # bench/ modules are imported from sys.path
from servers import ROOT
from sqlalchemy.engine import make_url

INSERT = (
    "INSERT INTO posts (title, body, user_id, version, created_at, updated_at)"
    " VALUES ('bench', '', :uid, 1, now(), now());"
)
POST_COUNT = "UPDATE users SET post_count = post_count + 1, updated_at = updated_at WHERE id = :uid;"
SHARD = (
    "INSERT INTO row_counts (name, n) VALUES ('posts:' || (:client_id % 16), 1)"
    " ON CONFLICT (name) DO UPDATE SET n = row_counts.n + excluded.n;"
)
SCRIPTS = {
    "before": [INSERT, "UPDATE row_counts SET n = n + 1 WHERE name = 'posts';", POST_COUNT],
    "after": [
        "SELECT id FROM users WHERE id = :uid FOR NO KEY UPDATE;",
        INSERT,
        "WITH post_count AS (" + POST_COUNT.rstrip(";") + ") " + SHARD,
    ],
    "no-counts": [INSERT],
    # Where the cost of "after" lies: the shard alone, and the author's post_count alone (an
    # indexed column, so its UPDATE is never HOT: a new entry in each of the users indexes).
    "+shard": [INSERT, SHARD],
    "+post_count": [INSERT, POST_COUNT],
}


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--database-url", default="postgresql+psycopg://postgres@127.0.0.1:5432/wt_pgscale_bench"
    )
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--seconds", type=int, default=5)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--users", type=int, default=1000)
    return parser.parse_args()


def pgbench(url, script, args):
    with tempfile.NamedTemporaryFile("w", suffix=".sql", delete=False) as f:
        f.write(f"\\set uid random(1, {args.users})\nBEGIN;\n" + "\n".join(script) + "\nEND;\n")
    try:
        parsed = make_url(url)
        command = ["pgbench", "-n", "-c", str(args.clients), "-j", "2", "-T", str(args.seconds), "-f", f.name]
        command += ["-h", parsed.host or "127.0.0.1", "-p", str(parsed.port or 5432)]
        command += ["-U", parsed.username or "postgres", parsed.database]
        result = subprocess.run(command, capture_output=True, text=True, check=True)
    finally:
        os.unlink(f.name)
    return float(re.search(r"tps = ([\d.]+)", result.stdout).group(1))


def main():
    args = parse_args()
    recreate(args.database_url)
    env = {**os.environ, "DATABASE_URL": args.database_url, "SECRET_KEY": "bench-only"}
    env["INSTANCE_PATH"] = tempfile.mkdtemp(prefix="pgstatements-")
    flask(ROOT, env, "db", "upgrade")
    flask(ROOT, env, "seed", "--users", str(args.users), "--posts-per-user", "3")
    seen = {name: [] for name in SCRIPTS}
    for round_ in range(1, args.rounds + 1):
        for name, script in SCRIPTS.items():
            tps = pgbench(args.database_url, script, args)
            seen[name].append(tps)
            print(f"round {round_} {name:>9}: {tps:8.1f} tx/s", flush=True)
    medians = {name: statistics.median(values) for name, values in seen.items()}
    print(f"\nmedian tx/s ({args.clients} clients): " + ", ".join(f"{n} {v:.0f}" for n, v in medians.items()))
    print(f"after / before:    {medians['after'] / medians['before']:.2f}")
    print(f"after / no-counts: {medians['after'] / medians['no-counts']:.2f}")
    print(f"before / no-counts: {medians['before'] / medians['no-counts']:.2f}")
    for name in ("+shard", "+post_count"):
        print(f"{name} / no-counts: {medians[name] / medians['no-counts']:.2f}")


if __name__ == "__main__":
    main()
