"""The `khrushchev-essays` command: thin click wrappers over the library.

Heavy libraries (spaCy, scikit-learn, Flask) are imported inside the commands that need them,
so `--help` stays fast.
"""

from __future__ import annotations

import sys

import click

from .cli_admin import COMMANDS, EXIT_USAGE, class_or_exit, database_app

EXIT_OK, EXIT_SOME_FAILED = 0, 1


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="khrushchev_essays")
def main() -> None:
    """Practise and mark A-level History essays on Khrushchev's USSR (1953-64)."""


@main.command("build-pipeline")
@click.option("--path", type=click.Path(file_okay=False), default=None,
              help="Where to save it (default: $KHRUSHCHEV_PIPELINE_DIR, else models/pipeline in a source checkout, "
              "else pipeline/ in the instance folder).")
def build_pipeline_cmd(path: str | None) -> None:
    """Build the spaCy pipeline (blank English + sentencizer + lookup lemmatizer) and save it."""
    from .scoring.nlp import PIPELINE_DIR, build_pipeline

    target = path or PIPELINE_DIR
    nlp = build_pipeline(target)
    click.echo(f"saved spaCy pipeline ({', '.join(nlp.pipe_names)}) to {target}")


@main.group("rubric")
def rubric_group() -> None:
    """Work with rubric files."""


@rubric_group.command("check")
@click.argument("files", nargs=-1, type=click.Path(dir_okay=False))
def rubric_check(files: tuple[str, ...]) -> None:
    """Validate rubric files (default: the shipped rubrics, khrushchev_essays/rubrics/); list every problem found."""
    from .scoring.rubric import RubricError, load_rubric_file, rubric_paths

    paths = list(files) or rubric_paths()
    if not paths:
        click.echo("no rubric files found", err=True)
        sys.exit(EXIT_USAGE)
    failed = False
    for path in paths:
        try:
            r = load_rubric_file(path)
        except RubricError as exc:
            failed = True
            click.echo(f"{path}: {len(exc.problems)} problem(s)", err=True)
            for problem in exc.problems:
                click.echo(f"  {problem}", err=True)
            continue
        named = r.named_factor.name if r.named_factor else "none"
        n_phrases = sum(len(f.phrases) for f in r.factors)
        click.echo(
            f"{path}: ok - {r.id} \"{r.question}\"\n"
            f"  max mark {r.max_mark}, {len(r.levels)} levels, {len(r.criteria)} criteria "
            f"({', '.join(f'{c.id} {c.weight:.0%}' for c in r.criteria)})\n"
            f"  {len(r.factors)} factors ({n_phrases} phrases; named factor: {named}), {len(r.events)} dated events"
        )
        # The effective settings, defaults included, so a rubric author sees what the engine will use.
        for c in r.criteria:
            params = ", ".join(f"{k}={v:g}" for k, v in c.params.model_dump().items()) or "(none)"
            click.echo(f"  criterion {c.id} ({c.kind}): {params}")
        for section in ("argument", "detection", "caps"):
            values = {k: v for k, v in getattr(r, section).model_dump().items() if not isinstance(v, list)}
            click.echo(f"  [{section}] " + ", ".join(f"{k}={v:g}" for k, v in values.items()))
        if r.focus is not None:
            click.echo(f"  [focus] {len(r.focus.terms)} terms; other questions: "
                       + (", ".join(oq.id for oq in r.other_questions) or "none") + f"; {len(r.links)} factor links")
    sys.exit(EXIT_SOME_FAILED if failed else EXIT_OK)


def _rubric_ids() -> list[str]:
    """The ids of the rubrics shipped (khrushchev_essays/rubrics/); exit 2 listing every problem of every broken file."""
    from .scoring.rubric import RubricError, load_rubric_file, rubric_paths

    ids, problems = [], []
    for path in rubric_paths():
        try:
            ids.append(load_rubric_file(path).id)
        except RubricError as exc:
            problems.extend(exc.problems)
    if problems or not ids:
        click.echo("cannot grade: " + ("the rubrics have problems:" if problems else "no rubric files found"), err=True)
        for problem in problems:
            click.echo(f"  {problem}", err=True)
        sys.exit(EXIT_USAGE)
    return ids


@main.command("grade")
@click.argument("paths", nargs=-1, metavar="PATH...")
@click.option("-q", "--question", default="auto", show_default=True,
              help="The question the essays answer: q1, q2, or auto to detect it for each essay. "
              "A CSV/JSONL row's own question column takes precedence.")
@click.option("-f", "--format", "fmt", type=click.Choice(["table", "csv", "json", "jsonl"]), default=None,
              help="Output format. Default: from --output's extension (.csv, .json, .jsonl; anything else "
              "gives table); without --output, table on a terminal and jsonl when piped.")
@click.option("-o", "--output", type=click.Path(dir_okay=False), default=None,
              help="Write here instead of standard output (all at once: nothing half-written on failure).")
@click.option("-j", "--jobs", type=click.IntRange(min=1), default=None,
              help="Processes to score with. Default: 1, or 2 for 200 essays or more when a second core is idle.")
@click.option("--store", is_flag=True,
              help="Also save every scored essay in the web app's database (DATABASE_URL, or the instance "
              "folder's SQLite file), so it appears on the teacher dashboard.")
@click.option("--class-code", default=None,
              help="With --store: the join code of the class for essays whose row gives none (it must exist: "
              "`classes list`). Without it, such essays belong to no class and only admins see them.")
def grade_cmd(paths: tuple[str, ...], question: str, fmt: str | None, output: str | None, jobs: int | None,
              store: bool, class_code: str | None) -> None:
    """Mark essays against the rubrics, one report per essay, in input order.

    \b
    PATH is an essay (.txt, .md, .docx), a folder (searched recursively), a class in a
    .csv (header row; columns id|student|name, question (optional), text|essay|answer)
    or a .jsonl (one {"id", "question", "text"} object per line), or - for standard input.
    An input that cannot be read (missing, empty, binary, not UTF-8, too long, a bad row)
    becomes an error row with the reason, and the rest of the batch is still marked.

    \b
    Exit status: 0 every input was scored; 1 some failed (the rest are still written);
    2 usage, rubric or setup error.

    \b
    Examples:
      khrushchev-essays grade essay.txt
      khrushchev-essays grade essays/ class.csv --question q2 --output marks.csv
      khrushchev-essays grade essays/ --store --class-code KXR7DM
    """
    from .batch.cpu import CpuWindow

    cpu = CpuWindow()  # the machine's load, read over the start-up below (for the default --jobs)

    from contextlib import nullcontext

    from .batch import atomic_output, check_writable, format_for_output, quiet_gc, score_items, write_reports
    from .inputs import AUTO, iter_items
    from .scoring import PipelineMissing

    if not paths:
        raise click.UsageError("give at least one essay file, folder, CSV/JSONL file, or - for standard input")
    if output and (problem := check_writable(output, paths)):
        raise click.BadParameter(problem, param_hint="--output")
    known = _rubric_ids()
    question = question.strip().lower()
    if question not in (*known, AUTO):
        raise click.BadParameter(f"unknown question {question!r} (known: {', '.join([*known, AUTO])})", param_hint="--question")
    fmt = fmt or format_for_output(output, sys.stdout.isatty())
    if class_code is not None and not store:
        raise click.BadParameter("--class-code is only used with --store", param_hint="--class-code")
    klass = None
    if store:
        database_app().app_context().push()  # before scoring: a database problem stops the batch at once
        klass = class_or_exit(class_code) if class_code is not None else None

    from .config import instance_path
    from .sources import marking_index

    items = list(iter_items(paths, known))
    classes: list = []
    if store:
        # A row's own class code must name a real class too; a row that names none is an error row.
        from .storage import class_by_code
        from .storage.imports import resolve_classes

        items, classes = resolve_classes(items, class_by_code, default=klass,
                                         unknown="no class has the join code {code} (see `khrushchev-essays classes list`)")
    # JSON out and nothing stored: the reports can come as their JSON lines, which a pool worker
    # writes itself (the parent then has no report to rebuild).
    reports = score_items(items, question, jobs, sources=marking_index(instance_path()),
                          encoded=fmt in ("json", "jsonl") and not store, cpu=cpu)
    stored: list[int] = []
    if store:
        reports = _storing(items, reports, classes, stored)
    # A bar only where someone watches, and not over reports streaming to the same terminal.
    streaming_to_terminal = output is None and sys.stdout.isatty() and fmt in ("json", "jsonl")
    show_bar = sys.stderr.isatty() and len(items) >= 20 and not streaming_to_terminal
    bar = click.progressbar(reports, length=len(items), label="Marking", file=sys.stderr) if show_bar else None
    try:
        with quiet_gc(), bar or nullcontext():  # the bar clears its line when done
            stream = bar if bar is not None else reports
            if output:
                with atomic_output(output) as fh:
                    summary = write_reports(stream, fmt, fh)
            else:
                summary = write_reports(stream, fmt, sys.stdout)
    except PipelineMissing as exc:
        click.echo(f"cannot grade: {exc}", err=True)
        sys.exit(EXIT_USAGE)
    if output or fmt != "table":
        click.echo(summary.line() + (f"; wrote {output}" if output else ""), err=True)
    if store:
        click.echo(f"stored {len(stored)} scored essay(s) in the database; teachers see them at /teacher/", err=True)
    sys.exit(EXIT_SOME_FAILED if summary.failed else EXIT_OK)


def _storing(items, reports, classes, stored: list[int]):
    """Pass the reports through, storing each scored essay in its class (grade --store); `stored` collects their ids."""
    from .storage.imports import store_reports

    for _item, report, sub in store_reports(items, reports, classes, source="cli"):
        if sub is not None:
            stored.append(sub.id)
        yield report


@main.command("evaluate")
@click.argument("paths", nargs=-1, metavar="PATH...")
@click.option("--labels", "labels_file", required=True, type=click.Path(dir_okay=False),
              help="Tab-separated labels: question, file, ..., consensus_level, consensus_mark.")
@click.option("-f", "--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)
@click.option("-j", "--jobs", type=click.IntRange(min=1), default=None, help="Processes to score with (as for grade).")
def evaluate_cmd(paths: tuple[str, ...], labels_file: str, fmt: str, jobs: int | None) -> None:
    """Compare the engine's levels and marks with examiners' labels.

    \b
    Each labelled essay is found as PATH/<question>/<file> (or PATH/<file>) and scored with
    its labelled question. Prints quadratic weighted kappa of levels, exact and adjacent
    (within one level) agreement, mark mean absolute error and the level confusion matrix,
    overall and per question, and the essays two or more levels out.

    \b
    Example:
      khrushchev-essays evaluate ../shared/calibration --labels ../shared/calibration/labels.tsv
    """
    import json

    from .calibration import EvaluationError, evaluate, format_evaluation
    from .scoring import PipelineMissing

    if not paths:
        raise click.UsageError("give the folder(s) holding the labelled essays")
    _rubric_ids()  # a broken rubric is a usage error here too, not one failed essay per row
    try:
        result = evaluate(paths, labels_file, jobs=jobs)
    except (EvaluationError, PipelineMissing) as exc:
        click.echo("cannot evaluate:", err=True)
        for problem in getattr(exc, "problems", [str(exc)]):
            click.echo(f"  {problem}", err=True)
        sys.exit(EXIT_USAGE)
    click.echo(json.dumps(result, indent=2) if fmt == "json" else format_evaluation(result))
    sys.exit(EXIT_SOME_FAILED if result["failed"] else EXIT_OK)


@main.command("train")
@click.argument("paths", nargs=-1, metavar="[PATH...]")
@click.option("--labels", "labels_file", type=click.Path(dir_okay=False), multiple=True,
              help="Tab-separated labels (question, file, ..., consensus_level, consensus_mark); the essays "
              "are PATH/<question>/<file>, PATH defaulting to the labels file's folder. Repeat to pool "
              "several marked sets (each read from its own folder).")
@click.option("--from-db", is_flag=True,
              help="Retrain from teachers' reviewed submissions in the database (10+ a question); the new model "
              "replaces the one in use only if it agrees better with the reviews.")
@click.option("--out", "out_dir", type=click.Path(file_okay=False), default=None,
              help="Where to write <question>.model.json and .json (default: calibrators/ in the instance folder, "
              "used before the shipped ones; `make calibrate` writes the shipped ones).")
@click.option("--always-apply", is_flag=True,
              help="Mark the models for use even where they do not beat the rules in cross-validation.")
@click.option("-j", "--jobs", type=click.IntRange(min=1), default=None, help="Processes to score with (as for grade).")
def train_cmd(paths: tuple[str, ...], labels_file: tuple[str, ...], from_db: bool, out_dir: str | None,
              always_apply: bool, jobs: int | None) -> None:
    """Fit a calibrator per question from marked essays; print cross-validated agreement.

    \b
    Prints, per question, leave-one-out QWK, exact and adjacent level agreement and mark MAE
    for the calibrator and for the rules alone on the same essays. A calibrator that does not
    beat the rules is saved with its figures but not used by the engine (see --always-apply).
    With --from-db it prints agreement with the reviews before (the engine as it is) and after
    (the new model), installs the new model only if it is better, and records the run for the
    analytics page.

    \b
    Example:
      khrushchev-essays train --labels ../shared/calibration/labels.tsv ../shared/calibration
    """
    from .scoring import PipelineMissing
    from .calibration import (
        EvaluationError,
        TrainingError,
        format_retraining,
        format_training,
        instance_calibrators_dir,
        train_from_db,
        train_from_labels,
    )

    if bool(labels_file) == from_db:
        raise click.UsageError("give either --labels FILE [PATH...] or --from-db")
    _rubric_ids()
    target = out_dir or str(instance_calibrators_dir())
    if from_db:
        # The database the web app uses: instance config, DATABASE_URL, or the instance SQLite file.
        database_app().app_context().push()
    try:
        if from_db:
            # No --out: the instance folder, measured against whatever the engine uses now.
            click.echo(format_retraining(train_from_db(out_dir, always_apply=always_apply)))
        else:
            results = train_from_labels(list(labels_file), paths, target, jobs=jobs, always_apply=always_apply)
            click.echo(format_training(results, target))
    except (EvaluationError, TrainingError, PipelineMissing) as exc:
        click.echo("cannot train:", err=True)
        for problem in getattr(exc, "problems", [str(exc)]):
            click.echo(f"  {problem}", err=True)
        sys.exit(EXIT_USAGE)


@main.group("sources")
def sources_group() -> None:
    """Register the texts essays are checked against for copying (notes, handouts, articles).

    \b
    Sources are kept in the instance folder (KHRUSHCHEV_INSTANCE_PATH, else instance/), in
    sources/, readable by their owner only; the web app's teacher page shows the same list.
    """


@sources_group.command("add")
@click.argument("files", nargs=-1, metavar="FILE...")
@click.option("--name", default=None, help="The source's name (default: the file's name without its extension). "
              "Only with one FILE.")
def sources_add(files: tuple[str, ...], name: str | None) -> None:
    """Register .txt, .md or .docx files as sources.

    \b
    A file that cannot be read, a name already taken or a text already registered is
    reported and the other files are still added. Exit status: 0 all added, 1 some not
    added, 2 usage error.

    \b
    Examples:
      khrushchev-essays sources add notes/virgin-lands.docx handout.txt
      khrushchev-essays sources add page.md --name "Textbook p. 212"
    """
    from .config import instance_path
    from .sources import SourceError, add_source_file

    if not files:
        raise click.UsageError("give at least one .txt, .md or .docx file")
    if name is not None and len(files) > 1:
        raise click.BadParameter("--name names one source: give one FILE with it", param_hint="--name")
    instance, failed = instance_path(), 0
    for path in files:
        try:
            info = add_source_file(instance, path, name)
        except SourceError as exc:
            failed += 1
            click.echo(f"not added: {exc}", err=True)
            continue
        click.echo(f"added {info.name!r} ({info.words:,} words) from {path}")
    sys.exit(EXIT_SOME_FAILED if failed else EXIT_OK)


@sources_group.command("list")
@click.option("-f", "--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)
def sources_list(fmt: str) -> None:
    """List the registered sources: name, words, when added, original file name."""
    import json

    from .config import instance_path
    from .sources import SourceError, list_sources

    try:
        entries = list_sources(instance_path())
    except SourceError as exc:
        click.echo(f"cannot list the sources: {exc}", err=True)
        sys.exit(EXIT_USAGE)
    if fmt == "json":
        click.echo(json.dumps([e.to_dict() for e in entries], indent=2, ensure_ascii=False))
        return
    if not entries:
        click.echo("no sources registered (add some with `khrushchev-essays sources add FILE...`)")
        return
    width = max(len("name"), *(len(e.name) for e in entries))
    click.echo(f"{'name':<{width}}  {'words':>7}  {'added (UTC)':<16}  file")
    for e in entries:
        click.echo(f"{e.name:<{width}}  {e.words:>7,}  {e.added.strftime('%Y-%m-%d %H:%M'):<16}  {e.filename}")


@sources_group.command("remove")
@click.argument("names", nargs=-1, metavar="NAME...")
def sources_remove(names: tuple[str, ...]) -> None:
    """Unregister sources by name (case does not matter) and delete their stored text.

    Exit status: 0 all removed, 1 some not found, 2 usage error.
    """
    from .config import instance_path
    from .sources import SourceError, remove_source

    if not names:
        raise click.UsageError("give the name of a source to remove (see `khrushchev-essays sources list`)")
    instance, failed = instance_path(), 0
    for name in names:
        try:
            info = remove_source(instance, name)
        except SourceError as exc:
            failed += 1
            click.echo(f"not removed: {exc}", err=True)
            continue
        click.echo(f"removed {info.name!r}")
    sys.exit(EXIT_SOME_FAILED if failed else EXIT_OK)


@main.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@click.option("--threads", default=None, type=click.IntRange(1, 256),
              help="Threads per process (default: 8 for one process, 2 per worker with --workers 2+).")
@click.option("--workers", default=1, show_default=True, type=click.IntRange(1, 64),
              help="Processes: 1 is waitress; 2 or more run gunicorn (Linux, macOS), one per core is a good start.")
@click.option("--access-log", type=str, default=None, help="With --workers 2+: log each request to this file ('-': stderr).")
def serve_cmd(host: str, port: int, threads: int | None, workers: int, access_log: str | None) -> None:
    """Serve the web app (applies database migrations first). See README, "Deployment"."""
    from .web.server import ServeError, serve

    try:
        serve(host=host, port=port, threads=threads, workers=workers, access_log=access_log)
    except ServeError as exc:
        click.echo(f"cannot serve: {exc}", err=True)
        sys.exit(EXIT_USAGE)


for _command in COMMANDS:  # accounts, classes, purge (cli_admin.py)
    main.add_command(_command)


if __name__ == "__main__":  # pragma: no cover
    main()
