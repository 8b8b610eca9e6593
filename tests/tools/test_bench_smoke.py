"""The benchmarks must not rot: one tiny run end to end, and the docs writer keeps other sections."""

from __future__ import annotations

import asyncio
import sys

from bench.common import ROOT, write_section


async def test_ack_latency_benchmark_runs_with_tiny_parameters() -> None:
    args = ["--jobs", "2", "--probes", "1", "--delay", "0.05", "--ref-size", "300", "200", "--timeout", "60"]
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bench.ack_latency",
        *args,
        "--no-write",
        cwd=ROOT,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    output, _ = await asyncio.wait_for(process.communicate(), 90)
    text = output.decode()
    assert process.returncode == 0, text
    assert "| probes during the load | p50" in text and "(n=1)" in text
    assert "Missed Discord's 3 s deadline (late or never answered): 0" in text


async def test_scale_out_benchmark_runs_with_tiny_parameters(postgres_url: str) -> None:
    args = ["--jobs", "4", "--workers", "1", "2", "--delay", "0.05", "--timeout", "60", "--skip-takeover"]
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bench.scale_out",
        *args,
        "--database-url",
        postgres_url,  # the benchmark creates its databases on this database's server
        "--no-write",
        cwd=ROOT,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    output, _ = await asyncio.wait_for(process.communicate(), 120)
    text = output.decode()
    assert process.returncode == 0, text
    assert "| SQLite | 1 |" in text and "| PostgreSQL | 2 |" in text
    rows = [row.split("|") for row in text.splitlines() if row.startswith(("| SQLite", "| PostgreSQL"))]
    assert [row[8].strip() for row in rows] == ["0"] * 3  # nothing failed
    assert all(row[9].strip().endswith(" ms") for row in rows)  # CPU per job


async def test_admission_round_trips_benchmark_runs_with_tiny_parameters(postgres_url: str) -> None:
    args = ["--sequential", "3", "--burst", "5", "--claimers", "1", "--database-url", postgres_url]
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bench.admission_trips",
        *args,
        cwd=ROOT,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    output, _ = await asyncio.wait_for(process.communicate(), 120)
    text = output.decode()
    assert process.returncode == 0, text
    one = [row.split("|") for row in text.splitlines() if row.startswith("| PostgreSQL | one admission")]
    assert one and float(one[0][3]) > 0, text  # round trips counted (their number: tests/unit/test_store_connections)


def test_a_section_is_replaced_and_the_others_are_kept(tmp_path) -> None:
    path = tmp_path / "benchmarks.md"
    path.write_text("# Benchmarks\n\n## Leaderboard\n\nkept as is\n")
    write_section("fit", "Fitting", "first result", path=path)
    write_section("fit", "Fitting", "second result", path=path)
    text = path.read_text()
    assert "## Leaderboard\n\nkept as is" in text
    assert "second result" in text and "first result" not in text
    assert text.count("## Fitting") == 1 and "_Machine:_" in text and "_Command:_" in text
