"""Benchmark the creator import: N generated rows into a fresh database, rows/s and peak memory.

    .venv/bin/python bench/import_creators.py [--rows 100000] [--database-url URL]

With no --database-url it makes a throw-away PostgreSQL database on 127.0.0.1:5432 when a server
answers there (the target: 100,000 rows in under 60 s, under 300 MB), else a SQLite file. The
import runs as `manage.py import_creators` in its own process, so its peak memory (max RSS) is
measured alone; a bare csv.reader pass over the same file is printed as the floor.
"""

import argparse
import csv
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PLATFORMS = ["instagram", "tiktok", "x", "youtube"]
TAGS = ["beauty", "skincare", "fitness", "travel", "food", "gaming", "parenting", "fashion", "tech", "wellness"]


def generate(path: Path, rows: int) -> None:
    rng = random.Random(7)
    with path.open("w", newline="", encoding="utf-8") as file:
        writer = csv.writer(file)
        header = ["name", "email", "country", "language", "tags"]
        for platform in PLATFORMS:
            header += [platform, f"{platform}_followers"]
        writer.writerow(header)
        for n in range(rows):
            row = [f"Creator {n}", f"creator{n}@example.com", rng.choice(["GB", "US", "DE", "FR"]), "en"]
            row.append(";".join(rng.sample(TAGS, k=2)))
            for index, platform in enumerate(PLATFORMS):
                if index < 2 or rng.random() < 0.4:
                    handle = f"c{n}_{platform[:2]}"
                    value = f"https://www.instagram.com/{handle}/" if platform == "instagram" else f"@{handle}"
                    row += [value, str(rng.randint(1_000, 2_000_000))]
                else:
                    row += ["", ""]
            writer.writerow(row)


def temporary_database(url: str | None):
    if url:
        return url, lambda: None
    try:
        import psycopg

        admin = psycopg.connect("postgresql://postgres@127.0.0.1:5432/postgres", autocommit=True, connect_timeout=3)
    except Exception:  # no PostgreSQL here: fall back to SQLite
        directory = tempfile.mkdtemp()
        return f"sqlite:///{directory}/bench.sqlite3", lambda: None
    name = f"bench_import_{uuid.uuid4().hex[:8]}"
    admin.execute(f'CREATE DATABASE "{name}"')

    def drop():
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()

    return f"postgresql://postgres@127.0.0.1:5432/{name}", drop


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--database-url")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "creators.csv"
        generate(path, args.rows)
        size_mb = path.stat().st_size / 1e6

        started = time.perf_counter()
        with path.open(newline="", encoding="utf-8") as file:
            bare_rows = sum(1 for _ in csv.reader(file)) - 1
        bare_seconds = time.perf_counter() - started

        database_url, drop = temporary_database(args.database_url)
        env = {**os.environ, "DATABASE_URL": database_url, "DJANGO_SETTINGS_MODULE": "config.settings"}
        try:
            subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], cwd=ROOT, env=env, check=True)
            command = [sys.executable, "manage.py", "import_creators", str(path), "--no-progress"]
            started = time.perf_counter()
            result = subprocess.run(command, cwd=ROOT, env=env, check=True, capture_output=True, text=True)
            seconds = time.perf_counter() - started
            peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
            again = time.perf_counter()
            subprocess.run(command, cwd=ROOT, env=env, check=True, capture_output=True, text=True)
            update_seconds = time.perf_counter() - again
        finally:
            drop()

    vendor = database_url.split(":", 1)[0]
    print(f"file: {args.rows:,} rows, {size_mb:.1f} MB; database: {vendor}")
    print(f"import (new creators):     {seconds:6.1f} s  {args.rows / seconds:9,.0f} rows/s")
    print(f"import again (all upserts): {update_seconds:5.1f} s  {args.rows / update_seconds:9,.0f} rows/s")
    print(f"bare csv.reader pass:      {bare_seconds:6.2f} s  {bare_rows / bare_seconds:9,.0f} rows/s (floor)")
    print(f"ratio import/bare parse:   {bare_seconds / seconds:.3f}")
    print(f"peak memory of the import process: {peak_mb:.0f} MB (max RSS)")
    print(result.stdout.strip())


if __name__ == "__main__":
    main()
