"""The `khrushchev-essays` command: thin click wrappers over the library.

Heavy libraries (spaCy, scikit-learn, Flask) are imported inside the commands that need them,
so `--help` stays fast.
"""

from __future__ import annotations

import sys

import click

EXIT_OK, EXIT_SOME_FAILED, EXIT_USAGE = 0, 1, 2


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="khrushchev_essays")
def main() -> None:
    """Practise and mark A-level History essays on Khrushchev's USSR (1953-64)."""


@main.command("build-pipeline")
@click.option("--path", type=click.Path(file_okay=False), default=None, help="Where to save it (default: models/pipeline).")
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
    """Validate rubric files (default: every file in rubrics/); list every problem found."""
    from .scoring.rubric import RubricError, load_rubric_file, rubric_paths

    paths = list(files) or [str(p) for p in rubric_paths()]
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
    sys.exit(EXIT_SOME_FAILED if failed else EXIT_OK)


@main.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@click.option("--threads", default=8, show_default=True, type=int)
def serve_cmd(host: str, port: int, threads: int) -> None:
    """Serve the web app with waitress (applies database migrations first)."""
    from .web.server import serve

    serve(host=host, port=port, threads=threads)


if __name__ == "__main__":  # pragma: no cover
    main()
