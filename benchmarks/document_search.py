#!/usr/bin/env python
"""Document search latency over 10,000 generated documents, on SQLite and PostgreSQL.

Not a test. For each engine: a fresh database built through the migrations (SQLite: a file
in a temporary folder; PostgreSQL: a new database on ``--pg``, dropped afterwards), the
reference catalogs, the 14 sample documents, then ``--documents`` generated ones (a
deterministic mix of the vocabulary of the field; a third of them with 400 words of "file
text", as a PDF's extracted text would add). Then every query of :data:`QUERIES` (plain,
without diacritics, with filters, hostile, page 99999) is run ``--rounds`` times through
:func:`dantoc.documents.search.run`, the function the public page calls (count + one page of
20), timed in the process (no HTTP). Prints the p50, p95 and max per engine, and per query
the slowest p95, as Markdown for ``docs/benchmarks.md``.

Usage: ``.venv/bin/python benchmarks/document_search.py [--documents 10000] [--rounds 20]
[--pg postgresql://postgres@127.0.0.1:5432/test] [--engines sqlite,postgresql] [--per-query]``
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
import uuid
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import sqlalchemy as sa  # noqa: E402

from dantoc import clock, create_app  # noqa: E402
from dantoc.config import normalise_database_url  # noqa: E402
from dantoc.documents import search  # noqa: E402
from dantoc.documents.models import DOC_TYPES, Document  # noqa: E402
from dantoc.extensions import db  # noqa: E402

QUERIES = [
    ("quyet dinh 414", {}), ("Quyết định 414", {}), ("de an 414", {}), ("ho ngheo", {}),
    ("dan toc thieu so", {}), ("chi tieu thong ke", {}), ("bao cao", {}),
    ("ho tro dong bao dan toc thieu so vung kho khan", {}), ("ke hoach 2024", {}),
    ("giao duc", {"in_force": True}), ("", {"year": 2023}), ("", {"doc_type": "cong_van"}),
    ("thong tu", {"year": 2019, "in_force": False}), ("nghi", {}), ("q", {}),
    ('NEAR " * : ^', {}), ("'; DROP TABLE documents; --", {}), ("x" * 10_000, {}),
    ("", {}), ("", {"page": 99999}), ("dan toc", {"page": 30}),
]
WORDS = tuple((  # noqa: SIM905  (a sentence reads better than 150 quoted words)
    "dân tộc thiểu số hộ nghèo cận nghèo hỗ trợ đồng bào vùng khó khăn đặc biệt kinh tế xã "
    "hội an ninh trật tự giáo dục đào tạo y tế giao thông nông thôn mới nhà ở đất sản xuất "
    "nước sinh hoạt tín ngưỡng tôn giáo chỉ tiêu thống kê báo cáo kế hoạch chương trình "
    "mục tiêu quốc gia giai đoạn phát triển bền vững giảm nghèo thôn bản xã phường tỉnh "
    "huyện Lai Châu Mường Tè Sìn Hồ Phong Thổ Tam Đường Than Uyên Tân Uyên Nậm Nhùn cán bộ "
    "công chức người có uy tín cộng đồng văn hoá du lịch lễ hội ngôn ngữ chữ viết Thái "
    "Mông Dao Hà Nhì Giáy Lự Cống Si La Mảng Khơ Mú Kháng"
).split())
ISSUERS = ("UBND tỉnh Lai Châu", "Sở Dân tộc và Tôn giáo tỉnh Lai Châu", "Ủy ban Dân tộc",
           "Bộ Dân tộc và Tôn giáo", "Thủ tướng Chính phủ", "HĐND tỉnh Lai Châu")
ABBREVIATIONS = {"luat": "L", "nghi_quyet": "NQ", "nghi_dinh": "NĐ", "quyet_dinh": "QĐ",
                 "thong_tu": "TT", "chi_thi": "CT", "ke_hoach": "KH", "cong_van": "CV",
                 "thong_bao": "TB", "huong_dan": "HD"}
VALIDITIES = (None, "in_force", "in_force", "expired", "partly_expired")


def _sentence(rng: random.Random, n: int) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(n))


def generate(count: int, group_ids: list[int], seed: int = 12) -> list[dict]:
    """``count`` documents with realistic metadata (and extracted text for a third)."""
    rng = random.Random(seed)
    rows, now = [], clock.now()
    for i in range(count):
        doc_type = rng.choice(list(DOC_TYPES))
        issued = date(2006, 1, 1) + timedelta(days=rng.randrange(20 * 365))
        number = f"{i + 1000}/{issued.year}/{ABBREVIATIONS[doc_type]}-G{i % 97}"
        document = Document(number=number, doc_type=doc_type, issuer=rng.choice(ISSUERS),
                            signer=rng.choice((None, "Nguyễn Văn An", "Lò Thị Bình")),
                            issued_on=issued, summary=_sentence(rng, rng.randint(8, 30)),
                            field=rng.choice((None, "Chính sách dân tộc", "Thống kê")))
        file_text = [search.fold(_sentence(rng, 400))] if i % 3 == 0 else []
        rows.append({
            "group_id": rng.choice(group_ids), "number": number, "doc_type": doc_type,
            "issuer": document.issuer, "signer": document.signer, "issued_on": issued,
            "effective_on": None, "validity": rng.choice(VALIDITIES),
            "validity_changed_on": None, "summary": document.summary,
            "field": document.field, "visibility": "public", "state": "published",
            "slug": f"van-ban-sinh-{i}", "is_sample": True, "source": None, "note": None,
            "search_text": search.search_text_of(document, file_text), "created_at": now,
            "updated_at": now, "published_at": now})
    return rows


def build(url: str, documents: int):
    """A migrated database with the reference data, the sample library and the documents."""
    from flask_migrate import upgrade

    from dantoc.accounts.services import seed_roles
    from dantoc.catalogs.reference import load_reference
    from dantoc.demo.documents import seed_documents

    app = create_app({"TESTING": True, "ENV": "testing", "SECRET_KEY": "bench",
                      "SQLALCHEMY_DATABASE_URI": normalise_database_url(url)})
    with app.app_context():
        upgrade()
        seed_roles()
        load_reference()
        seed_documents({})
        db.session.commit()
        group_ids = list(db.session.scalars(sa.text("SELECT id FROM document_groups")))
        started = time.perf_counter()
        rows = generate(documents, group_ids)
        for start in range(0, len(rows), 1000):
            db.session.execute(sa.insert(Document), rows[start:start + 1000])
        db.session.commit()
        if db.engine.dialect.name == "postgresql":
            db.session.execute(sa.text("ANALYZE documents"))
            db.session.commit()
        print(f"  {documents} documents loaded in {time.perf_counter() - started:.1f} s",
              flush=True)
    return app


#: Print every query's p50 and p95 (``--per-query``).
PER_QUERY = False

#: CPU time of this process per query (label → ms): on SQLite the whole search runs here, so
#: this is the figure without the other processes of a shared machine.
CPU: dict[str, list[float]] = {}


def measure(app, rounds: int) -> dict[str, list[float]]:
    timings: dict[str, list[float]] = {}
    CPU.clear()
    with app.app_context():
        for query, options in QUERIES:
            options = dict(options)
            page = options.pop("page", 1)
            filters = search.Filters(**options)
            search.run(query, filters, page)  # warm the caches once
            label = f"{query[:40]!r} {options or ''}{' page ' + str(page) if page > 1 else ''}"
            for _ in range(rounds):
                started, cpu = time.perf_counter(), time.process_time()
                search.run(query, filters, page)
                timings.setdefault(label, []).append((time.perf_counter() - started) * 1000)
                CPU.setdefault(label, []).append((time.process_time() - cpu) * 1000)
            db.session.rollback()
    return timings


def p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[94]


def report(engine: str, timings: dict[str, list[float]]) -> tuple:
    everything = [t for values in timings.values() for t in values]
    slowest = max(timings, key=lambda label: p95(timings[label]))
    print(f"  slowest query (p95): {slowest} {p95(timings[slowest]):.1f} ms")
    if PER_QUERY:
        for label, values in timings.items():
            print(f"    {label[:60]:60} p50 {statistics.median(values):6.1f} ms  "
                  f"p95 {p95(values):6.1f} ms")
    cpu = [t for values in CPU.values() for t in values]
    print(f"  CPU of this process: p50 {statistics.median(cpu):.1f} ms, p95 {p95(cpu):.1f} ms")
    return (engine, statistics.median(everything), p95(everything), max(everything),
            p95(cpu), os.getloadavg()[0])


def run_engine(engine: str, args) -> tuple[str, float, float, float]:
    print(f"{engine}:", flush=True)
    if engine == "sqlite":
        with tempfile.TemporaryDirectory() as folder:
            app = build(f"sqlite:///{folder}/bench.sqlite3", args.documents)
            result = report(engine, measure(app, args.rounds))
            with app.app_context():
                db.engine.dispose()
            return result
    admin = sa.create_engine(normalise_database_url(args.pg), isolation_level="AUTOCOMMIT")
    name = f"dantoc_bench_{uuid.uuid4().hex[:8]}"
    with admin.connect() as connection:
        connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
    try:
        url = sa.make_url(normalise_database_url(args.pg)).set(database=name)
        app = build(url.render_as_string(hide_password=False), args.documents)
        result = report(engine, measure(app, args.rounds))
        with app.app_context():
            db.engine.dispose()
        return result
    finally:
        with admin.connect() as connection:
            connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--documents", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--pg", default="postgresql://postgres@127.0.0.1:5432/test")
    parser.add_argument("--engines", default="sqlite,postgresql")
    parser.add_argument("--per-query", action="store_true",
                        help="print the p50 and p95 of every query")
    args = parser.parse_args()
    global PER_QUERY
    PER_QUERY = args.per_query
    rows = [run_engine(engine, args) for engine in args.engines.split(",")]
    total = args.documents + 14
    print("\n| Engine | Documents | Queries × rounds | p50 | p95 | max | p95 CPU here "
          "| load |")
    print("|---|---|---|---|---|---|---|---|")
    for engine, p50, p95_, worst, cpu, load in rows:
        print(f"| {engine} | {total:,} | {len(QUERIES)} × {args.rounds} | {p50:.1f} ms "
              f"| **{p95_:.1f} ms** | {worst:.1f} ms | {cpu:.1f} ms | {load:.1f} |")


if __name__ == "__main__":
    main()
