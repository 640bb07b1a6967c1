"""The bench script runs end to end: seeds a small database, serves every page once, stops."""

import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import sqlite_only

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.slow
@sqlite_only
def test_bench_smoke_run_serves_every_page(tmp_path):
    result = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "run.py"), "--smoke", "--workdir", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    for page in ("hello world (baseline)", "raw sqlite3 /users (baseline)", "/users page 1", "/posts page 1"):
        assert any(line.split()[0] == "200" and page in line for line in lines), result.stdout
    # The page revalidated with its ETag: 304.
    assert any(line.split()[0] == "304" and "304 (If-None-Match)" in line for line in lines), result.stdout
    # The deep page is reached through the Next link, which carries a cursor.
    assert any("(next link)" in line and "after=" in line for line in lines), result.stdout
    assert any(line.split()[0] == "201" and "minimal insert app" in line for line in lines), result.stdout


@pytest.mark.slow
@sqlite_only
def test_million_bench_runs_end_to_end_on_a_small_database(tmp_path):
    """bench/million.py at 300 users: every URL it times answers 200, and a report is printed."""
    small = ["--databases", "sqlite", "--users", "300", "--requests", "1", "--warmup", "0"]
    quick = ["--no-full-exports", "--no-report", "--workdir", str(tmp_path)]
    result = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "million.py"), *small, *quick],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    timed = [line.split() for line in result.stdout.splitlines() if line.startswith(" ") and "  /" in line]
    assert len(timed) > 50
    assert all(fields[2] == "200" for fields in timed), result.stdout
    assert "## 1M rows: every kind of URL" in result.stdout
    assert not (tmp_path / "sqlite").exists()  # without --reuse the database is removed
