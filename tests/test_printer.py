"""The one table printer: `gtlake sql` results (tests/test_query.py) and the command line's
reports, aligned by display width."""

from __future__ import annotations

import io

from gtlake.printer import write_table


def test_a_plain_report_aligns_cjk_by_display_width_and_cuts_nothing() -> None:
    out = io.StringIO()
    rows = [("犬と玩具を探す", "complete", "3"), ("x" * 70, "in-progress", "12")]
    write_table(("job", "status", "lines"), [rows], out, max_rows=0, plain=True,
                numeric=[False] * 3)  # fmt: skip
    assert out.getvalue().splitlines() == [
        "job" + " " * 69 + "status       lines",
        "犬と玩具を探す" + " " * 58 + "complete     3",  # 14 cells wide, as 14 ASCII letters
        "x" * 70 + "  in-progress  12",
    ]
