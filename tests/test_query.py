"""`gtlake sql`: the command run in-process, over the chained lake of test_views."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from gtlake.printer import write_table
from tests.conftest import Ran, gtlake
from tests.test_views import ADJUST, DOGS, SPECIES, VERDICTS, VERIFY, build_chained_lake


@pytest.fixture(scope="module")
def lake(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_chained_lake(tmp_path_factory.mktemp("query"))


def gtlake_sql(*args: str, stdin: str = "") -> Ran:
    return gtlake("sql", *args, stdin=stdin)


def test_query_prints_an_aligned_table(lake: Path) -> None:
    done = gtlake_sql(
        str(lake),
        "select label_job, count(*) as labels, round(avg(confidence), 2) as mean "
        "from object_labels where label_job like 'identify%' group by all order by 1",
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [
        "label_job                labels  mean",
        "-----------------------  ------  ----",
        "identify-animal-species       4  0.81",
        "identify-dogs-and-toys        3  NULL",
        "(2 rows)",
    ]


def test_csv_has_a_header_and_every_row(lake: Path) -> None:
    done = gtlake_sql(
        str(lake),
        "select box_index, change, iou from box_adjustments order by source_ref, box_index",
        "--format",
        "csv",
    )
    assert done.returncode == 0, done.stderr
    table = list(csv.reader(io.StringIO(done.stdout)))
    assert table[0] == ["box_index", "change", "iou"]
    assert [r[:2] for r in table[1:]] == [
        ["0", "moved"], ["1", "unchanged"], ["2", "moved"], ["0", "unchanged"], ["0", "moved"],
        ["1", "removed"],
    ]  # fmt: skip
    assert float(table[1][2]) == pytest.approx(7620 / 7996) and table[-1][2] == ""


def test_json_is_one_typed_object_per_line(lake: Path) -> None:
    done = gtlake_sql(
        str(lake),
        "select verdict, verdict_confidence, comments, line from verification_results "
        "where judged_is_latest and verify_job = 'verify-bounding-boxes' order by line",
        "--format=json",
    )
    assert done.returncode == 0, done.stderr
    records = [json.loads(line) for line in done.stdout.splitlines()]
    assert records == [
        {"verdict": v, "verdict_confidence": c, "comments": comments, "line": i}
        for i, (v, c, comments) in enumerate(VERDICTS.values())
    ]


def test_several_statements_print_each_result(lake: Path) -> None:
    done = gtlake_sql(
        str(lake),
        "create temp view dogs as select * from boxes where job = 'identify-dogs-and-toys'; "
        "select count(*) as n from dogs; select 'a;b' as s",
        "--format",
        "csv",
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == ["n", "6", "s", "a;b"]


def test_prompt_reads_statements_from_stdin(lake: Path) -> None:
    script = (
        "select count(*) as jobs\n  from jobs;\n"
        ".tables\n"
        "select nonsense from nowhere;\n"
        "select 'x;\ny' as s;\n"
        "select upstream_job from job_lineage where downstream_job = 'verify-bounding-boxes' "
        "order by 1"  # the last statement may lack its ';'
    )
    done = gtlake_sql(str(lake), "--format", "csv", stdin=script)
    assert done.returncode == 1  # one statement failed; the others ran
    assert "gtlake: error:" in done.stderr and "nowhere" in done.stderr
    out = done.stdout.splitlines()
    assert out[:2] == ["jobs", "6"]
    tables = out[2 : out.index("s")]
    assert {"boxes", "object_labels", "worker_stats", "confidence_ranked"} <= set(tables)
    assert out[out.index("s") :] == ["s", '"x;', 'y"', "upstream_job", ADJUST, DOGS]


def test_prompt_ends_cleanly_on_quit(lake: Path) -> None:
    done = gtlake_sql(str(lake), stdin="select 1 as one;\n.quit\nselect 2;\n")
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == ["one", "---", "  1", "(1 row)"]


def test_save_writes_a_database_for_other_clients(lake: Path, tmp_path: Path) -> None:
    target = tmp_path / "views.duckdb"
    done = gtlake_sql(str(lake), "--save", str(target))
    assert done.returncode == 0, done.stderr
    with duckdb.connect(str(target), read_only=True) as saved:
        got = saved.execute("select downstream_job from job_lineage where upstream_job = ?",
                            [DOGS]).fetchall()  # fmt: skip
        assert sorted(got) == [(ADJUST,), (VERIFY,)]


def test_errors_are_one_line_and_exit_non_zero(lake: Path, tmp_path: Path) -> None:
    done = gtlake_sql(str(lake), "select * from no_such_view")
    assert done.returncode == 1
    assert done.stderr.startswith("gtlake: error: Catalog Error") and "no_such_view" in done.stderr
    assert "Traceback" not in done.stderr
    missing = gtlake_sql(str(tmp_path / "missing"), "select 1")
    assert missing.returncode == 1
    assert missing.stderr.strip().endswith("missing does not exist")


def test_sql_over_an_s3_lake(lake: Path, s3_server, s3_bucket: str) -> None:
    from gtlake.storage import Location

    Location(f"s3://{s3_bucket}/lake").fs().put(str(lake) + "/", f"{s3_bucket}/lake/",
                                                recursive=True)  # fmt: skip
    done = gtlake_sql(
        f"s3://{s3_bucket}/lake",
        "select label_job, count(*) as n from object_labels group by all order by 1",
        "--format",
        "csv",
        "--endpoint-url",
        s3_server.endpoint_url,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[:2] == ["label_job,n", f"{ADJUST},3"]
    assert f"{SPECIES},4" in done.stdout.splitlines()


def test_table_output_aligns_numbers_right_and_cuts_long_cells() -> None:
    out = io.StringIO()
    write_table(["name", "n"], [[("a" * 70, 1), ("b\nc", None), ("d", 22.5)]], out)
    assert out.getvalue().splitlines() == [
        "name" + " " * 56 + "     n",
        "-" * 60 + "  ----",
        "a" * 59 + "…     1",
        "b\\nc" + " " * 56 + "  NULL",
        "d" + " " * 59 + "  22.5",
        "(3 rows)",
    ]


# -- memory: rows are streamed, never held whole -------------------------------------------------

PEAK_RSS = """\
import os, subprocess, sys
child = subprocess.Popen(sys.argv[1:], stdout=subprocess.DEVNULL)
_, status, usage = os.wait4(child.pid, 0)
print(usage.ru_maxrss * 1024 if os.waitstatus_to_exitcode(status) == 0 else -1)
"""
FETCHALL = """\
import sys
from gtlake.storage import Location
from gtlake.views import connect
connect(Location(sys.argv[1])).execute(sys.argv[2]).fetchall()
"""


def peak_rss(*command: str) -> int:
    """Peak RSS of `command`, started from a small Python process (a child forked from pytest
    would count pytest's own pages)."""
    done = subprocess.run(
        [sys.executable, "-c", PEAK_RSS, *command], capture_output=True, text=True, timeout=300
    )
    rss = int(done.stdout)
    assert rss > 0, done.stderr
    return rss


@pytest.mark.slow
def test_select_star_streams_instead_of_holding_the_result(tmp_path: Path) -> None:
    """200k rows: `select * from objects` costs the command little more than `select 1`, and
    far less than fetching the same result whole in the same views (the anchor)."""
    from gtlake import synthetic
    from gtlake.ingest import ingest
    from gtlake.storage import Location

    synthetic.write_synthetic(
        tmp_path / "tree", 1, 200_000, kinds=["image-classification"], chained=False,
        intermediates=0,
    )  # fmt: skip
    lake = tmp_path / "lake"
    assert not ingest(Location(str(tmp_path / "tree")), Location(str(lake)), workers=1).failed
    gtlake_sql_cmd = [sys.executable, "-m", "gtlake.cli", "sql", str(lake)]
    base = peak_rss(*gtlake_sql_cmd, "select 1")
    streamed = peak_rss(*gtlake_sql_cmd, "select * from objects")
    whole = peak_rss(sys.executable, "-c", FETCHALL, str(lake), "select * from objects")
    mib = 1 << 20
    assert streamed - base < 120 * mib, (base // mib, streamed // mib, whole // mib)
    assert streamed - base < (whole - base) / 2, (base // mib, streamed // mib, whole // mib)


def test_a_long_result_shows_max_rows_and_counts_the_rest(lake: Path) -> None:
    done = gtlake_sql(str(lake), "select n from range(25000) t(n) order by n")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[:2] == [" n", "--"]  # widths from the rows shown
    assert lines[2:-1] == [f"{n:>2}" for n in range(40)]
    assert lines[-1] == "(25,000 rows, 40 shown)"
    few = gtlake_sql(str(lake), "select n from range(25000) t(n) order by n", "--max-rows", "3")
    assert few.stdout.splitlines() == ["n", "-", "0", "1", "2", "(25,000 rows, 3 shown)"]
    every = gtlake_sql(str(lake), "select n from range(25000) t(n) order by n", "--max-rows=0")
    # every row, a batch at a time: the widths grow when a batch brings wider cells
    out = every.stdout.splitlines()
    assert out[-1] == "(25,000 rows)" and out[0].strip() == "n"
    assert [line.lstrip() for line in out[2:-1]] == [str(n) for n in range(25_000)]
    assert {len(line) for line in out[2:-1]} <= {4, 5} and len(out[-2]) == 5


def test_wide_characters_take_two_cells(lake: Path) -> None:
    done = gtlake_sql(
        str(lake),
        "select * from (values ('日本語', 1), ('abc', 22), ('狗と玩具' || repeat('x', 60), 3)) "
        "t(name, n) order by n",
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [
        "name" + " " * 56 + "   n",
        "-" * 60 + "  --",
        "日本語" + " " * 54 + "   1",
        "狗と玩具" + "x" * 51 + "…   3",
        "abc" + " " * 57 + "  22",
        "(3 rows)",
    ]


# -- the prompt on a terminal: line editing and a history kept between sessions ------------------


def _terminal_session(lake: Path, state: Path, keys: list[bytes | tuple[bytes, bytes]]) -> str:
    """Run `gtlake sql LAKE` on a pseudo-terminal, typing each of `keys` once the prompt shows
    (a key given as (prompt, key) waits for that prompt instead of `gtlake>`)."""
    import os
    import pty
    import select
    import time

    env = {**os.environ, "XDG_STATE_HOME": str(state), "TERM": "xterm", "INPUTRC": "/dev/null"}
    pid, fd = pty.fork()
    if pid == 0:  # the child: the command on the terminal
        os.execve(sys.executable, [sys.executable, "-m", "gtlake.cli", "sql", str(lake)], env)
    seen = b""
    deadline = time.monotonic() + 60
    pending = list(keys)
    unanswered: tuple[int, float] | None = None  # a Ctrl-C typed (where, when): no prompt since
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([fd], [], [], 0.1)
            if ready:
                try:
                    chunk = os.read(fd, 4096)
                except OSError:  # the child closed the terminal: it has left
                    break
                if not chunk:
                    break
                seen += chunk
            if unanswered is not None and b"gtlake>" in seen[unanswered[0] :]:
                unanswered = None
            elif unanswered is not None and time.monotonic() - unanswered[1] > 1:
                # CPython's readline misses a SIGINT that arrives before it starts waiting for a
                # key (it wakes on the next one), as a person pressing Ctrl-C again would find;
                # the test types that fast when the machine is loaded (1 session in 5)
                os.write(fd, b"\x03")
                unanswered = (unanswered[0], time.monotonic())
            prompt, key = (
                pending[0]
                if pending and isinstance(pending[0], tuple)
                else (b"gtlake>", pending[0] if pending else b"")
            )
            if pending and seen.rstrip().endswith(prompt):
                pending.pop(0)
                os.write(fd, key)
                seen += b"\n<typed>\n"
                unanswered = (len(seen), time.monotonic()) if key == b"\x03" else None
    finally:
        os.close(fd)
        _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0, seen.decode(errors="replace")
    return seen.decode(errors="replace").replace("\r", "")


@pytest.mark.slow
def test_the_prompt_keeps_a_history_and_edits_lines(lake: Path, tmp_path: Path) -> None:
    first = _terminal_session(lake, tmp_path, [b"select 42 as answer;\n", b".quit\n"])
    assert "answer" in first and "    42" in first
    history = (tmp_path / "gtlake" / "history").read_text()
    assert "select 42 as answer;" in history
    # A new session: arrow up twice recalls the statement (before it: `.quit`); then a line
    # typed with a mistake erased by backspace.
    second = _terminal_session(
        lake, tmp_path, [b"\x1b[A\x1b[A\n", b"select 7 as sevem\x7fn;\n", b".quit\n"]
    )
    assert second.count("answer") >= 2 and "    42" in second  # the recalled statement ran
    assert "seven" in second and "sevem" not in second.split("<typed>")[-1]
    assert "select 7 as seven;" in (tmp_path / "gtlake" / "history").read_text()


@pytest.mark.slow
def test_ctrl_c_at_the_prompt_drops_the_statement_and_ctrl_d_leaves(
    lake: Path, tmp_path: Path
) -> None:
    seen = _terminal_session(
        lake,
        tmp_path,
        [
            b"select 99 as partial\n",  # an unfinished statement: the prompt continues
            (b"...>", b"\x03"),  # Ctrl-C: dropped, back at `gtlake>`
            b"select 5 as five;\n",
            b"\x04",  # Ctrl-D: leaves, exit status 0
        ],
    )
    after = seen.split("<typed>")
    assert "gtlake>" in after[2]  # Ctrl-C brought the first prompt back, the process still runs
    assert "five\n----\n   5\n(1 row)" in after[3]
    assert "partial" not in after[3] and "error" not in seen  # the dropped line never ran
