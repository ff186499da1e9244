"""The recordings list on a million recordings in PostgreSQL: the first page and a deep page
(by keyset cursor), with and without a full-text query over the transcripts.

A million call recordings over about a month (Bandwidth's retention), 60% with a transcript
of three phrases out of twenty: "invoice" is in about one transcript in seven, "zeppelin"
in one in ten thousand. Loaded with generate_series (the GIN index dropped during the load
and built after it, as for any bulk load), then timed by tests/benchmarks/recordings_probe.py
as an admin's browser asks for the page (Django's test client: view, queries, template).
Results: printed, and written to var/benchmarks/recordings-list.md for docs/benchmarks.md.
"""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
import time

import pytest

from console.processes import BASE_DIR, manage_command
from tests.support.services import require_postgres
from tests.support.stack import _postgres_database

pytestmark = pytest.mark.benchmark

RECORDINGS = 1_000_000
DEEP = 900_000
COMMON, RARE = "invoice", "zeppelin"
DEEP_MATCH = 50_000

PHRASES = [
    "please call me back about the invoice",
    "the delivery is late again",
    "I would like to change my appointment",
    "can someone check the order status",
    "this is a message for the billing team",
    "the technician did not show up today",
    "I am calling about my account password",
    "we need a quote for fifty units",
    "thanks for the quick help yesterday",
    "the line was dropped twice this morning",
    "my package arrived damaged",
    "please cancel the Thursday meeting",
    "the printer on the third floor is broken",
    "call me on my mobile after five",
    "I have a question about the contract renewal",
    "the heating in the office is not working",
    "can you send the report by email",
    "I was charged twice this month",
    "the warehouse is closed on Monday",
    "just confirming our lunch on Friday",
]


def load(database_url: str) -> dict:
    import psycopg

    phrases = "(ARRAY[" + ",".join("'" + phrase.replace("'", "''") + "'" for phrase in PHRASES) + "])"
    started = time.perf_counter()
    with psycopg.connect(database_url, autocommit=True) as db:
        db.execute("DROP INDEX transcription_text_search")
        db.execute(
            f"""
            INSERT INTO voice_recording (recording_id, call_id, account_id, parent_call_id, direction, from_number,
                to_number, name, channels, duration_seconds, file_format, status, media_url, start_time, end_time,
                tag, archive_name, created_at, updated_at)
            SELECT 'r-bench-' || i, 'c-bench-' || i, '9900000', '', 'inbound', '+1555' || lpad((i % 9999991)::text, 7, '0'),
                '+19195550150', '', 1, 5 + i % 300, 'wav', 'complete', '',
                timestamptz '2026-10-25 00:00:00+00' + i * interval '2.6 seconds',
                timestamptz '2026-10-25 00:00:00+00' + i * interval '2.6 seconds' + (5 + i % 300) * interval '1 second',
                '', '', now(), now()
            FROM generate_series(1, {RECORDINGS}) AS i
            """
        )
        db.execute(
            f"""
            INSERT INTO voice_transcription (recording_id, transcription_id, status, url, completed_time, text,
                confidence, fetched_at, fetch_error, created_at, updated_at)
            SELECT id, '', 'available', '', end_time,
                {phrases}[1 + id % 20] || '. ' || {phrases}[1 + (id * 7) % 19] || '. ' || {phrases}[1 + (id * 13) % 17]
                    || CASE WHEN id % 10000 = 0 THEN '. the {RARE} tour is sold out' ELSE '' END,
                0.9, end_time, '', now(), now()
            FROM voice_recording WHERE id % 5 < 3
            """
        )
        loaded = time.perf_counter() - started
        db.execute(
            "CREATE INDEX transcription_text_search ON voice_transcription "
            "USING gin (to_tsvector('english'::regconfig, COALESCE(text, '')))"
        )
        db.execute("VACUUM ANALYZE voice_recording")
        db.execute("VACUUM ANALYZE voice_transcription")
        indexed = time.perf_counter() - started - loaded
        matches = {
            word: db.execute(
                "SELECT count(*) FROM voice_transcription WHERE to_tsvector('english'::regconfig, COALESCE(text, '')) "
                "@@ websearch_to_tsquery('english'::regconfig, %s)",
                (word,),
            ).fetchone()[0]
            for word in (COMMON, RARE)
        }
        size = db.execute("SELECT pg_size_pretty(pg_total_relation_size('voice_transcription'))").fetchone()[0]
    return {"load_s": loaded, "index_s": indexed, "matches": matches, "transcriptions_size": size}


def test_recordings_list_on_a_million_rows(tmp_path):
    require_postgres()
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL", "DEBUG")}
    env.update(VAR_DIR=str(tmp_path), LOG_LEVEL="WARNING", PYTHONPATH=str(BASE_DIR))
    with _postgres_database() as database_url:
        env["DATABASE_URL"] = database_url
        subprocess.run(manage_command("migrate", "--noinput", "-v", "0"), env=env, check=True, cwd=BASE_DIR)
        loaded = load(database_url)
        probe = subprocess.run(
            [sys.executable, "-m", "tests.benchmarks.recordings_probe", str(DEEP), COMMON, RARE, str(DEEP_MATCH)],
            env=env, cwd=BASE_DIR, capture_output=True, text=True, timeout=1800,
        )
        assert probe.returncode == 0, probe.stderr
    results = [json.loads(line) for line in probe.stdout.splitlines() if line.startswith("{")]
    table = "\n".join(
        [
            f"Machine: {os.cpu_count()} cores, {platform.platform()}, Python {platform.python_version()}. "
            f"{RECORDINGS:,} recordings, {int(RECORDINGS * 0.6):,} transcripts ({loaded['transcriptions_size']} with the "
            f'GIN index); "{COMMON}" in {loaded["matches"][COMMON]:,} transcripts, "{RARE}" in {loaded["matches"][RARE]:,}. '
            f"Loaded in {loaded['load_s']:.0f} s, GIN index built in {loaded['index_s']:.0f} s.",
            "",
            "| page | rows | p50 ms | p90 ms | max ms | the query's plan |",
            "|---|---|---|---|---|---|",
            *(
                f"| {r['name']} | {r['rows']} | {r['p50']:.1f} | {r['p90']:.1f} | {r['max']:.1f} | {r['plan']} |"
                for r in results
            ),
        ]
    )
    out = BASE_DIR / "var" / "benchmarks"
    out.mkdir(parents=True, exist_ok=True)
    (out / "recordings-list.md").write_text(table + "\n")
    print("\n" + table)
    assert len(results) == 7 and all(r["rows"] == 50 for r in results[:5]), results
    # "Search is instant on a large archive": every page, deep or searched by transcript,
    # well under a second.
    assert all(r["p50"] < 500 for r in results[:5]), results
