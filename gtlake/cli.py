"""The `gtlake` command: a thin shell over the library, built on click.

Each command is a small function that parses nothing itself and calls the library; a new command
is one more `@cli.command()` function here. Every error a user can cause ends as one line
`gtlake: error: ...` on standard error with exit status 1 (see `GtlakeGroup.main`).
"""

from __future__ import annotations

import io
import logging
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from importlib.metadata import version
from pathlib import Path
from typing import Any

import click
from rich.console import Console

from gtlake.errors import GtlakeError, one_line
from gtlake.processes import Terminated, lean_memory, sigterm_raises
from gtlake.schemas import TABLES
from gtlake.storage import Location, as_store_error

HELP = """Flatten SageMaker Ground Truth output into a lake of Delta Lake tables and query it
with DuckDB.

SOURCE is a directory (or s3://bucket/prefix) holding one directory per labeling job, as Ground
Truth writes them. LAKE is where the Delta tables go: <lake>/<table>/ (partitioned by job, type).

\b
examples:
  gtlake demo ./gt-output                         write the bundled sample jobs
  gtlake jobs ./gt-output                         list the jobs and their manifests
  gtlake ingest ./gt-output --lake ./lake         flatten every job into ./lake
  gtlake ingest s3://bucket/gt --lake ./lake --endpoint-url http://127.0.0.1:9000
  gtlake sql ./lake "select job, count(*) from boxes group by all"
  gtlake export ./lake --job identify-dogs-and-toys --out dogs.manifest
  gtlake ddl s3://bucket/lake --engine athena        register the lake's tables in Athena
  gtlake dataset ./lake --format coco --out ./coco --split train=0.8,val=0.2
"""

CONTEXT = {"help_option_names": ["-h", "--help"], "max_content_width": 100}


def fail(message: str) -> None:
    """Print the one-line error the way every gtlake error looks."""
    click.echo(f"gtlake: error: {one_line(message)}", err=True)


@dataclass
class Settings:
    """What the group's options decide for every command."""

    verbose: int = 0
    quiet: bool = False
    console: Console | None = None  # a terminal to draw progress on (None: log lines only)


_handler: logging.Handler | None = None


def setup_logging(verbose: int, quiet: bool) -> Settings:
    """Log through `logging` to standard error: on a terminal next to the progress display
    (warnings, `-v` adds a line per job, `-vv` debug); elsewhere a line per job (`-q` warnings
    only, `-v` debug)."""
    global _handler
    console = Console(stderr=True)
    terminal = console.is_terminal
    if quiet:
        level = logging.WARNING
    elif terminal:
        level = (logging.WARNING, logging.INFO)[verbose] if verbose < 2 else logging.DEBUG
    else:
        level = logging.DEBUG if verbose else logging.INFO
    if terminal:
        from rich.logging import RichHandler

        handler: logging.Handler = RichHandler(
            console=console, show_path=False, show_level=verbose > 1, log_time_format="%X"
        )
    else:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(asctime)s %(message)s", "%Y-%m-%d %H:%M:%S"))
    logger = logging.getLogger("gtlake")
    if _handler is not None:
        logger.removeHandler(_handler)
    logger.addHandler(handler)
    logger.setLevel(level)
    logger.propagate = False
    _handler = handler
    return Settings(verbose, quiet, console if terminal and not quiet else None)


class GtlakeGroup(click.Group):
    """A click group whose errors are one line `gtlake: error: ...` and exit status 1."""

    def main(  # type: ignore[override]
        self,
        args: Sequence[str] | None = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        **extra: Any,
    ) -> Any:
        try:
            with sigterm_raises():
                code = super().main(
                    args, prog_name or "gtlake", complete_var, standalone_mode=False, **extra
                )
        except click.exceptions.NoArgsIsHelpError as exc:
            click.echo(exc.ctx.get_help() if exc.ctx else str(exc), err=True)
            code = 2
        except click.ClickException as exc:
            fail(exc.format_message())
            code = 1
        except GtlakeError as exc:
            fail(str(exc))
            code = 1
        except Terminated as exc:  # SIGTERM: the workers are already stopped
            click.echo(f"gtlake: {exc}", err=True)
            code = 128 + exc.signum
        except (click.Abort, KeyboardInterrupt):
            click.echo("gtlake: interrupted", err=True)
            code = 130
        except BrokenPipeError:
            code = 0
        except OSError as exc:  # a file or the store failed where no GtlakeError names it
            where = f" ({exc.filename})" if exc.filename else ""
            fail(f"{exc.strerror or exc}{where}")
            code = 1
        except Exception as exc:
            store = as_store_error(exc)  # botocore failing without an answer from the store
            if store is not exc:
                fail(str(store))
            elif logging.getLogger("gtlake").isEnabledFor(logging.DEBUG):
                raise
            else:
                fail(f"unexpected {type(exc).__name__}: {exc} (gtlake -v shows the traceback)")
            code = 1
        code = code if isinstance(code, int) else 0
        if standalone_mode:
            sys.exit(code)
        return code


def endpoint_option(command: Any) -> Any:
    return click.option(
        "--endpoint-url",
        metavar="URL",
        help="S3-compatible endpoint for s3:// paths (default: $AWS_ENDPOINT_URL, else AWS)",
    )(command)


@click.group(cls=GtlakeGroup, help=HELP, context_settings=CONTEXT)
@click.version_option(version("gtlake"), "--version", prog_name="gtlake")
@click.option("-v", "--verbose", count=True, help="more log lines (-vv: debug)")
@click.option("-q", "--quiet", is_flag=True, help="no progress and no log lines, only errors")
@click.pass_context
def cli(ctx: click.Context, verbose: int, quiet: bool) -> None:
    ctx.obj = setup_logging(verbose, quiet)
    lean_memory()


@cli.command(
    help="Write Ground Truth job directories to DIR: by default the bundled samples (one job per "
    "documented example, plus jobs shaped like real files); with --jobs, a deterministic "
    "synthetic tree for scale tests.",
    short_help="write the bundled sample jobs (or a synthetic tree) to DIR",
)
@click.argument("dir", metavar="DIR")
@click.option("--jobs", type=click.IntRange(min=1), help="synthetic: number of base jobs")
@click.option(
    "--lines",
    type=click.IntRange(min=1),
    default=1000,
    show_default=True,
    help="synthetic: lines per base job",
)
@click.option("--seed", type=int, default=0, show_default=True, help="synthetic: random seed")
def demo(dir: str, jobs: int | None, lines: int, seed: int) -> int:
    target = Path(dir)
    if target.exists() and not target.is_dir():
        raise GtlakeError(f"{dir} exists and is not a directory")
    try:
        if jobs is not None:
            from gtlake.synthetic import write_synthetic

            count = write_synthetic(dir, jobs=jobs, lines=lines, seed=seed)
        else:
            from gtlake.demo import write_samples

            count = write_samples(dir)
    except OSError as exc:
        raise GtlakeError(f"cannot write {dir}: {exc.strerror or exc}") from exc
    click.echo(f"wrote {count} job directories to {dir}")
    return 0


@cli.command(
    "jobs",
    help="List the job directories under SOURCE with their status and manifest.",
    short_help="list the job directories under SOURCE",
)
@click.argument("source", metavar="SOURCE")
@endpoint_option
def jobs_command(source: str, endpoint_url: str | None) -> int:
    from gtlake.source import list_jobs

    found = list_jobs(Location(source, endpoint_url))
    rows = []
    for job in found:
        manifest, status = job.manifest()
        rows.append(
            (job.name, status, str(len(job.files)), manifest.path if manifest else "(none)")
        )
    _print_table(("job", "status", "files", "manifest"), rows)
    click.echo(f"{len(found)} jobs")
    return 0


@cli.command(
    help="Read every job's output manifest (or its newest intermediate one while the job runs) "
    "and replace the job's partitions in LAKE. Jobs whose files are unchanged since the last "
    "ingest are skipped. Bad lines go to the quarantine table; they do not fail the run.\n\n"
    "\b\n"
    "examples:\n"
    "  gtlake ingest ./gt-output --lake ./lake\n"
    "  gtlake ingest s3://bucket/gt --lake s3://bucket/lake --job my-job --full\n"
    "  AWS_PROFILE=labeling gtlake ingest s3://bucket/gt --lake ./lake",
    short_help="flatten the jobs under SOURCE into the lake",
)
@click.argument("source", metavar="SOURCE")
@click.option("--lake", required=True, metavar="LAKE", help="where the lake is written")
@click.option("--job", "names", multiple=True, metavar="NAME", help="only this job (repeatable)")
@click.option("--full", is_flag=True, help="re-ingest unchanged jobs too")
@click.option(
    "--workers", type=int, metavar="N", help="parallel worker processes (default: CPU count)"
)
@endpoint_option
def ingest(
    source: str,
    lake: str,
    names: tuple[str, ...],
    full: bool,
    workers: int | None,
    endpoint_url: str | None,
) -> int:
    from gtlake.ingest import ingest as run_ingest
    from gtlake.progress import IngestProgress

    progress = IngestProgress(click.get_current_context().find_root().obj.console)
    try:
        report = run_ingest(
            Location(source, endpoint_url),
            Location(lake, endpoint_url),
            names=list(names) or None,
            full=full,
            workers=workers,
            on_job=progress.job_done,
            on_start=progress.start,
            on_bytes=progress.job_bytes,
        )
    finally:
        progress.close()
    print_report(report)
    for failed in report.failed:
        fail(f"job {failed.job}: {failed.error}")
    return 1 if report.failed else 0


def print_report(report) -> None:
    done = [j for j in report.jobs if not j.skipped and not j.error]
    kept = [j for j in report.jobs if j.skipped and j.message]
    skipped = [j for j in report.jobs if j.skipped and not j.message]
    rows = [
        (j.job, j.type, j.status, str(j.lines), str(j.labeled_lines), str(j.quarantined))
        for j in done
    ]
    if rows:
        _print_table(("job", "type", "status", "lines", "labeled", "quarantined"), rows)
    for j in done + kept:
        if j.message:
            click.echo(f"note: job {j.job}: {j.message}")
    if report.vanished:
        names = ", ".join(report.vanished[:5]) + (" ..." if len(report.vanished) > 5 else "")
        click.echo(
            f"note: {len(report.vanished)} jobs in the lake are gone from the source and were "
            f"left in place: {names}"
        )
    totals = {t: sum(j.rows.get(t, 0) for j in done) for t in TABLES if t != "jobs"}
    click.echo(
        f"ingested {len(done)} jobs, skipped {len(skipped)} unchanged, "
        f"{len(report.failed)} failed in {report.seconds:.1f}s"
    )
    if done:
        click.echo("rows: " + ", ".join(f"{t} {n}" for t, n in totals.items()))


@cli.command(
    help="Open DuckDB with one view per table and the analysis views over LAKE; run QUERY, or "
    "start an interactive prompt when QUERY is omitted. QUERY may hold several statements "
    "separated with ;.",
    short_help="query the lake with DuckDB",
)
@click.argument("lake", metavar="LAKE")
@click.argument("query", required=False, metavar="[QUERY]")
@click.option(
    "--format", "fmt", type=click.Choice(["table", "csv", "json"]), default="table",
    show_default=True, help="output format",
)  # fmt: skip
@click.option(
    "--max-rows",
    type=click.IntRange(min=0),
    default=40,
    show_default=True,
    metavar="N",
    help="table format: rows shown per result, the rest counted (0: every row)",
)
@click.option("--save", metavar="FILE.duckdb", help="write a DuckDB file holding the views")
@click.option(
    "--as-of",
    metavar="VERSION|TIMESTAMP",
    help="read the lake as it was: a version of its jobs table, or an ISO time",
)
@endpoint_option
def sql(
    lake: str,
    query: str | None,
    fmt: str,
    max_rows: int,
    save: str | None,
    as_of: str | None,
    endpoint_url: str | None,
) -> int:
    from gtlake import query as queries

    return queries.sql_command(
        Location(lake, endpoint_url), query, fmt=fmt, save=save, max_rows=max_rows, as_of=as_of
    )


@cli.command(
    help="Delete the files ingests replaced (and files of killed runs) once they are older than "
    "--retain hours; snapshots and --as-of reads older than that stop working.",
    short_help="delete the lake's files no recent snapshot needs",
)
@click.argument("lake", metavar="LAKE")
@click.option(
    "--retain",
    type=click.FloatRange(min=0),
    default=168,
    show_default=True,
    metavar="HOURS",
    help="keep files younger than this (Delta's default: 7 days)",
)
@endpoint_option
def vacuum(lake: str, retain: float, endpoint_url: str | None) -> int:
    from gtlake.lake import vacuum as run_vacuum

    deleted = run_vacuum(Location(lake, endpoint_url), retain)
    click.echo(f"deleted {sum(deleted.values())} files older than {retain:g} hours")
    return 0


@cli.command(
    help="Print the statements that register every table of LAKE in another engine. Athena, "
    "Trino and Spark get each Delta table as <table>_delta (partitioned by job, type, "
    "ingest_id; the engine reads the log) and a view <table> of each job's current ingest, as "
    "gtlake reads the lake. DuckDB gets one view per table over the data files of the lake's "
    "snapshot now, as `gtlake sql` and its views file do (no extension needed).\n\n"
    "Athena and Trino read S3: LAKE is an s3:// URL, or --location says where the engine finds "
    "the lake (a copy on S3; s3a://... for Spark on Hadoop).\n\n"
    "\b\n"
    "examples:\n"
    "  gtlake ddl s3://bucket/lake --engine athena > athena.sql   # run one statement at a time\n"
    "  gtlake ddl s3://bucket/lake --engine trino --catalog delta | trino --server URL\n"
    "  gtlake ddl s3://bucket/lake --engine spark --location s3a://bucket/lake > tables.sql\n"
    "  gtlake ddl ./lake --engine duckdb --database main | duckdb lake.duckdb",
    short_help="print the statements registering the lake in Athena, Trino, Spark or DuckDB",
)
@click.argument("lake", metavar="LAKE")
@click.option(
    "--engine", required=True, metavar="ENGINE",
    help="athena, trino, spark or duckdb",
)  # fmt: skip
@click.option(
    "--database", "--schema", "database", default="gtlake", show_default=True, metavar="NAME",
    help="the database (Trino, DuckDB: schema) the tables and views go into",
)  # fmt: skip
@click.option(
    "--catalog", default="delta", show_default=True, metavar="NAME",
    help="trino: the Delta Lake connector's catalog",
)  # fmt: skip
@click.option(
    "--location", metavar="URL",
    help="where the engine finds the lake, when not at LAKE (default: LAKE)",
)  # fmt: skip
@endpoint_option
def ddl(
    lake: str,
    engine: str,
    database: str,
    catalog: str,
    location: str | None,
    endpoint_url: str | None,
) -> int:
    from gtlake.ddl import ddl as statements

    text = statements(Location(lake, endpoint_url), engine.lower(), database, catalog, location)
    click.echo(text, nl=False)
    return 0


@cli.command(
    help="Rebuild a job's output manifest (JSON Lines) from the lake's tables.",
    short_help="write a job's output manifest back from the lake",
)
@click.argument("lake", metavar="LAKE")
@click.option("--job", required=True, metavar="NAME", help="the job to export")
@click.option("--out", metavar="FILE", help="output file (default: standard output)")
@endpoint_option
def export(lake: str, job: str, out: str | None, endpoint_url: str | None) -> int:
    from gtlake.export import export as run_export

    count = run_export(Location(lake, endpoint_url), job, out)
    if out:
        click.echo(f"wrote {count} lines to {out}")
    return 0


@cli.command(
    help="Write a training set from LAKE: per object and label family the latest label (an "
    "adjustment replaces the boxes it adjusted, across jobs), or with --policy verified only "
    "labels a verification job judged good and none judged bad; narrowed by --where (a SQL "
    "expression over object_labels columns) and split by a hash of the object, so an object "
    "keeps its split when jobs are added. OUT is a directory or s3://bucket/prefix.",
    short_help="write a training set (COCO, YOLO, augmented manifest, csv)",
)
@click.argument("lake", metavar="LAKE")
@click.option(
    "--format", "fmt", required=True, type=click.Choice(["coco", "yolo", "manifest", "csv"]),
    help="coco (boxes; masks in a side file), yolo (boxes), manifest (SageMaker augmented "
    "manifest, any one label type), csv (classification)",
)  # fmt: skip
@click.option("--out", required=True, metavar="DIR", help="directory or s3://bucket/prefix")
@click.option(
    "--policy", type=click.Choice(["latest", "verified"]), default="latest", show_default=True,
    help="which label of each object and family",
)  # fmt: skip
@click.option(
    "--where", metavar="SQL", help="e.g. \"origin_job like 'birds-%' and confidence >= 0.7\""
)
@click.option(
    "--split", "split", default="train=1", show_default=True, metavar="NAME=SHARE,...",
    help="e.g. train=0.8,val=0.1,test=0.1",
)  # fmt: skip
@click.option("--seed", type=int, default=0, show_default=True, help="mixed into the split hash")
@click.option(
    "--good-verdict", "good", multiple=True, default=("good",), show_default=True,
    metavar="NAME", help="verification class meaning good (repeatable)",
)  # fmt: skip
@click.option(
    "--attribute", default="label", show_default=True, metavar="NAME",
    help="manifest: the label attribute's name in every line",
)  # fmt: skip
@endpoint_option
def dataset(
    lake: str,
    fmt: str,
    out: str,
    policy: str,
    where: str | None,
    split: str,
    seed: int,
    good: tuple[str, ...],
    attribute: str,
    endpoint_url: str | None,
) -> int:
    from gtlake.datasets import build_dataset, parse_splits

    report = build_dataset(
        Location(lake, endpoint_url),
        Location(out, endpoint_url),
        fmt,
        policy=policy,
        where=where,
        splits=parse_splits(split),
        seed=seed,
        good_verdicts=good,
        attribute=attribute,
    )
    print_dataset_report(report)
    return 0


def print_dataset_report(report) -> None:
    splits = list(report.splits)
    _print_table(
        ("split", "objects", "items"),
        [(s, str(c["objects"]), str(c["items"])) for s, c in report.splits.items()],
    )
    classes = sorted({name for c in report.splits.values() for name in c["classes"]})
    rows = [
        (name, *(str(report.splits[s]["classes"].get(name, 0)) for s in splits)) for name in classes
    ]
    if rows:
        _print_table(("class", *splits), rows)
    if report.skipped:
        skipped = ", ".join(f"{t} {n}" for t, n in report.skipped.items())
        click.echo(f"not written ({report.format} does not hold them): {skipped}")
    if report.attribute_names:
        names = ", ".join(f'"{n}"' for n in report.attribute_names)
        click.echo(f"AttributeNames: [{names}]")
    click.echo(
        f"wrote {report.format} ({report.objects} objects, {report.items} items, policy "
        f"{report.policy}) to {report.out}: {', '.join(_file_summary(report.files))}"
    )


def _file_summary(files: list[str]) -> list[str]:
    """The files written, a directory of many label files summed up."""
    top = [f for f in files if "/" not in f]
    nested: dict[str, int] = {}
    for f in files:
        if "/" in f:
            nested[f.split("/", 1)[0]] = nested.get(f.split("/", 1)[0], 0) + 1
    return [*top, *(f"{d}/ ({n} files)" for d, n in sorted(nested.items())), "dataset.json"]


def _print_table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
    from gtlake.printer import write_table

    out = io.StringIO()
    write_table(header, [rows], out, max_rows=0, numeric=[False] * len(header), plain=True)
    click.echo(out.getvalue(), nl=False)


def main(argv: Sequence[str] | None = None) -> int:
    """Run `gtlake` with `argv` (default: the command line); returns the exit status."""
    return cli.main(args=argv, prog_name="gtlake", standalone_mode=False)


if __name__ == "__main__":
    sys.exit(main())
