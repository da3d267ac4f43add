#!/usr/bin/env python
"""What a fresh PostgreSQL database per test costs the suite: made in line (copy, test, drop,
one after the other, as the suite did before issue 15) or made ahead and dropped behind (the
suite's ``PostgresDatabases``: copies two ahead in the background, drops in batches of 16
at the same time, by threads of their own).

Not a test. Builds the suite's migrated template on the server at
``DANTOC_TEST_DATABASE_URL`` (default postgresql://postgres@127.0.0.1:5432/test), then, for
each way, runs ``--tests`` stand-in tests that connect to their database, read a table and
hold it for ``--body`` seconds (the time a test takes), and prints the wall time per test
above ``--body``: what the per-test database adds. The server's load matters a great deal
(``DROP DATABASE`` waits for a checkpoint), so the load average is printed too; run the two
ways alternately (``--rounds``) to compare them under the same load.

Usage: ``.venv/bin/python benchmarks/database_per_test.py [--tests 20] [--body 0.2]
[--rounds 2]``.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

os.environ["DANTOC_TEST_ENGINE"] = "postgresql"
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import sqlalchemy as sa

from tests import conftest


def _stand_in_test(url: str, body: float) -> None:
    engine = sa.create_engine(conftest.normalise_database_url(url), poolclass=sa.pool.NullPool)
    with engine.connect() as connection:
        connection.execute(sa.text("SELECT count(*) FROM admin_units")).scalar()
        time.sleep(body)
    engine.dispose()


def _run(tests: int, body: float, take, give) -> float:
    """``tests`` stand-in tests, each on the database ``take()`` gives, handed back with
    ``give(url)``; the wall time."""
    start = time.perf_counter()
    for _ in range(tests):
        url = take()
        _stand_in_test(url, body)
        give(url)
    return time.perf_counter() - start


def in_line(databases: conftest.PostgresDatabases, tests: int, body: float) -> float:
    """Copy, test, drop, one after the other."""
    return _run(tests, body, databases._copy, databases._drop)


def ahead_and_behind(databases: conftest.PostgresDatabases, tests: int, body: float) -> float:
    """The suite's way, the final drops included."""
    start = time.perf_counter()
    _run(tests, body, databases.new, databases.drop)
    databases._drop_finished()
    for future in databases.drops:
        future.result()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tests", type=int, default=20)
    parser.add_argument("--body", type=float, default=0.2)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    databases = conftest.PostgresDatabases()
    databases.build_template()
    try:
        for round_ in range(1, args.rounds + 1):
            for name, way in (("in line", in_line), ("ahead and behind", ahead_and_behind)):
                load = Path("/proc/loadavg").read_text().split()[0]
                wall = way(databases, args.tests, args.body)
                extra = (wall / args.tests - args.body) * 1000
                print(f"round {round_}, {name:>16}: {wall:6.1f} s for {args.tests} tests, "
                      f"{extra:5.0f} ms per test above the body (load average {load})",
                      flush=True)
    finally:
        databases.cleanup()


if __name__ == "__main__":
    main()
