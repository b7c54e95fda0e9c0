"""The `gtlake` command: a thin shell over the library."""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence

from gtlake.errors import GtlakeError
from gtlake.schemas import TABLES
from gtlake.storage import Location

EPILOG = """\
examples:
  gtlake demo ./gt-output                         write the bundled sample jobs
  gtlake jobs ./gt-output                         list the jobs and their manifests
  gtlake ingest ./gt-output --lake ./lake         flatten every job into ./lake
  gtlake ingest s3://bucket/gt --lake ./lake --endpoint-url http://127.0.0.1:9000
  gtlake sql ./lake "select job, count(*) from boxes group by all"
  gtlake export ./lake --job identify-dogs-and-toys --out dogs.manifest

SOURCE is a directory (or s3://bucket/prefix) holding one directory per labeling job, as Ground
Truth writes them. LAKE is where the Parquet tables go: <lake>/<table>/job=<job>/type=<type>/.
"""


def _location(url: str, args: argparse.Namespace) -> Location:
    return Location(url, getattr(args, "endpoint_url", None))


def _add_endpoint(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--endpoint-url",
        metavar="URL",
        help="S3-compatible endpoint for s3:// paths (default: $AWS_ENDPOINT_URL, else AWS)",
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="gtlake",
        description="Flatten SageMaker Ground Truth output into a Hive-partitioned Parquet lake "
        "and query it with DuckDB.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    demo = sub.add_parser(
        "demo",
        help="write the bundled sample jobs (or a synthetic tree) to DIR",
        description="Write Ground Truth job directories to DIR: by default the bundled samples "
        "(one job per documented example, plus jobs shaped like real files); with --jobs, a "
        "deterministic synthetic tree for scale tests.",
    )
    demo.add_argument("dir", metavar="DIR", help="where to write the job directories")
    demo.add_argument("--jobs", type=int, help="synthetic: number of base jobs")
    demo.add_argument("--lines", type=int, default=1000, help="synthetic: lines per base job")
    demo.add_argument("--seed", type=int, default=0, help="synthetic: random seed")

    jobs = sub.add_parser(
        "jobs",
        help="list the job directories under SOURCE",
        description="List the job directories under SOURCE with their status and manifest.",
    )
    jobs.add_argument(
        "source",
        metavar="SOURCE",
        help="directory or s3://bucket/prefix holding one directory per labeling job",
    )
    _add_endpoint(jobs)

    ingest = sub.add_parser(
        "ingest",
        help="flatten the jobs under SOURCE into the lake",
        description="Read every job's output manifest (or its newest intermediate one while\n"
        "the job runs) and replace the job's partitions in LAKE. Jobs whose files are\n"
        "unchanged since the last ingest are skipped. Bad lines go to the quarantine\n"
        "table; they do not fail the run.",
        epilog="examples:\n"
        "  gtlake ingest ./gt-output --lake ./lake\n"
        "  gtlake ingest s3://bucket/gt --lake s3://bucket/lake --job my-job --full\n"
        "  AWS_PROFILE=labeling gtlake ingest s3://bucket/gt --lake ./lake",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    ingest.add_argument(
        "source",
        metavar="SOURCE",
        help="directory or s3://bucket/prefix holding one directory per labeling job",
    )
    ingest.add_argument("--lake", required=True, metavar="LAKE", help="where the lake is written")
    ingest.add_argument(
        "--job", action="append", dest="jobs", metavar="NAME", help="only this job (repeatable)"
    )
    ingest.add_argument("--full", action="store_true", help="re-ingest unchanged jobs too")
    ingest.add_argument(
        "--workers", type=int, metavar="N", help="parallel worker processes (default: CPU count)"
    )
    _add_endpoint(ingest)

    sql = sub.add_parser(
        "sql",
        help="query the lake with DuckDB",
        description="Open DuckDB with one view per table and the analysis views over LAKE; run "
        "QUERY, or start an interactive prompt when QUERY is omitted.",
    )
    sql.add_argument("lake", metavar="LAKE", help="the lake: a directory or s3://bucket/prefix")
    sql.add_argument(
        "query", nargs="?", metavar="QUERY", help="SQL to run (several statements: separate with ;)"
    )
    sql.add_argument("--format", choices=("table", "csv", "json"), default="table")
    sql.add_argument("--save", metavar="FILE.duckdb", help="write a DuckDB file holding the views")
    sql.add_argument(
        "--as-of",
        metavar="VERSION|TIMESTAMP",
        help="read the lake as it was: a version of its jobs table, or an ISO time",
    )
    _add_endpoint(sql)

    vacuum = sub.add_parser(
        "vacuum",
        help="delete the lake's files no recent snapshot needs",
        description="Delete the files that ingests replaced (and files of killed runs) once they "
        "are older than --retain hours; snapshots and --as-of reads older than that stop working.",
    )
    vacuum.add_argument("lake", metavar="LAKE", help="the lake: a directory or s3://bucket/prefix")
    vacuum.add_argument(
        "--retain",
        type=float,
        default=168,
        metavar="HOURS",
        help="keep files younger than this (default: 168, Delta's 7 days)",
    )
    _add_endpoint(vacuum)

    export = sub.add_parser(
        "export",
        help="write a job's output manifest back from the lake",
        description="Rebuild a job's output manifest (JSON Lines) from the lake's tables.",
    )
    export.add_argument("lake", metavar="LAKE", help="the lake: a directory or s3://bucket/prefix")
    export.add_argument("--job", required=True, metavar="NAME")
    export.add_argument("--out", metavar="FILE", help="output file (default: standard output)")
    _add_endpoint(export)
    return parser


def cmd_demo(args: argparse.Namespace) -> int:
    if args.jobs:
        from gtlake.synthetic import write_synthetic

        count = write_synthetic(args.dir, jobs=args.jobs, lines=args.lines, seed=args.seed)
    else:
        from gtlake.demo import write_samples

        count = write_samples(args.dir)
    print(f"wrote {count} job directories to {args.dir}")
    return 0


def cmd_jobs(args: argparse.Namespace) -> int:
    from gtlake.source import list_jobs

    found = list_jobs(_location(args.source, args))
    rows = []
    for job in found:
        manifest, status = job.manifest()
        rows.append(
            (job.name, status, str(len(job.files)), manifest.path if manifest else "(none)")
        )
    _print_table(("job", "status", "files", "manifest"), rows)
    print(f"{len(found)} jobs")
    return 0


class Progress:
    """One status line on a terminal; silent otherwise."""

    def __init__(self, stream=sys.stderr) -> None:
        self.stream = stream
        self.enabled = stream.isatty()
        self.total = self.done = 0
        self.started = time.perf_counter()

    def start(self, jobs: Sequence) -> None:
        self.total = len(jobs)
        self._show()

    def job_done(self, result) -> None:
        self.done += 1
        self._show(result.job)

    def _show(self, last: str = "") -> None:
        if not self.enabled:
            return
        elapsed = time.perf_counter() - self.started
        text = f"\r[{self.done}/{self.total} jobs] {elapsed:5.1f}s {last[:40]}"
        self.stream.write(text.ljust(72))
        self.stream.flush()

    def close(self) -> None:
        if self.enabled:
            self.stream.write("\r" + " " * 72 + "\r")
            self.stream.flush()


def cmd_ingest(args: argparse.Namespace) -> int:
    from gtlake.ingest import ingest

    progress = Progress()
    try:
        report = ingest(
            _location(args.source, args),
            _location(args.lake, args),
            names=args.jobs,
            full=args.full,
            workers=args.workers,
            on_job=progress.job_done,
            on_start=progress.start,
        )
    finally:
        progress.close()
    print_report(report)
    for failed in report.failed:
        print(f"gtlake: error: job {failed.job}: {failed.error}", file=sys.stderr)
    return 1 if report.failed else 0


def print_report(report) -> None:
    done = [j for j in report.jobs if not j.skipped and not j.error]
    skipped = [j for j in report.jobs if j.skipped]
    rows = [
        (j.job, j.type, j.status, str(j.lines), str(j.labeled_lines), str(j.quarantined))
        for j in done
    ]
    if rows:
        _print_table(("job", "type", "status", "lines", "labeled", "quarantined"), rows)
    for j in done:
        if j.message:
            print(f"note: job {j.job}: {j.message}")
    if report.vanished:
        names = ", ".join(report.vanished[:5]) + (" ..." if len(report.vanished) > 5 else "")
        print(
            f"note: {len(report.vanished)} jobs in the lake are gone from the source and were "
            f"left in place: {names}"
        )
    totals = {t: sum(j.rows.get(t, 0) for j in done) for t in TABLES if t != "jobs"}
    print(
        f"ingested {len(done)} jobs, skipped {len(skipped)} unchanged, "
        f"{len(report.failed)} failed in {report.seconds:.1f}s"
    )
    if done:
        print("rows: " + ", ".join(f"{t} {n}" for t, n in totals.items()))


def cmd_sql(args: argparse.Namespace) -> int:
    from gtlake import query

    return query.sql_command(
        _location(args.lake, args), args.query, fmt=args.format, save=args.save, as_of=args.as_of
    )


def cmd_vacuum(args: argparse.Namespace) -> int:
    from gtlake.lake import vacuum

    if args.retain < 0:
        raise GtlakeError("--retain must be 0 or more hours")
    deleted = vacuum(_location(args.lake, args), args.retain)
    print(f"deleted {sum(deleted.values())} files older than {args.retain:g} hours")
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    from gtlake.export import export

    count = export(_location(args.lake, args), args.job, args.out)
    if args.out:
        print(f"wrote {count} lines to {args.out}")
    return 0


def _print_table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
    widths = [max(len(str(c)) for c in col) for col in zip(header, *rows, strict=False)]
    for row in (header, *rows):
        print("  ".join(str(c).ljust(w) for c, w in zip(row, widths, strict=False)).rstrip())


COMMANDS = {
    "demo": cmd_demo,
    "jobs": cmd_jobs,
    "ingest": cmd_ingest,
    "sql": cmd_sql,
    "export": cmd_export,
    "vacuum": cmd_vacuum,
}


def parse(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """Parse the command line; `gtlake sql LAKE --format csv QUERY` (QUERY after an option) too."""
    parser = build_parser()
    args, extra = parser.parse_known_args(argv)
    if extra and args.command == "sql" and args.query is None and len(extra) == 1:
        args.query = extra[0]
    elif extra:
        parser.error(f"unrecognized arguments: {' '.join(extra)}")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse(argv)
    try:
        return COMMANDS[args.command](args)
    except GtlakeError as exc:
        print(f"gtlake: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("gtlake: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0


if __name__ == "__main__":
    sys.exit(main())
