"""The administration commands of `khrushchev-essays`: accounts, classes and retention.

`create-teacher`, `teachers list|--deactivate|activate`, `classes add|list|new-code` and `purge`,
thin click wrappers over storage.accounts, storage.classes and storage.privacy, each on the web
app's database (with its migrations applied first). cli.py adds them to the main group.
"""

from __future__ import annotations

import sys

import click

EXIT_USAGE = 2  # a usage or setup error, for every command (cli.py imports it from here)


def class_or_exit(code: str):
    """The class with this join code, or exit 2 saying there is none (needs an app context)."""
    from .storage import class_by_code

    klass = class_by_code(code)
    if klass is None:
        click.echo(f"no class has the join code {code!r}: see `khrushchev-essays classes list`, or make one with "
                   "`khrushchev-essays classes add NAME --teacher EMAIL`", err=True)
        sys.exit(EXIT_USAGE)
    return klass


def database_app():
    """The web app (for its database settings: instance config, DATABASE_URL or the instance
    SQLite file), with the migrations applied so a first command on a fresh install just works."""
    from flask_migrate import upgrade

    from . import create_app

    app = create_app()
    with app.app_context():
        upgrade()
    return app


@click.command("create-teacher")
@click.argument("email")
@click.option("--name", default=None, help="The name shown on the teacher pages (default: the email).")
@click.option("--password-stdin", is_flag=True,
              help="Read the password from the first line of standard input instead of prompting (for scripts).")
@click.option("--reset-password", is_flag=True, help="Set a new password for an existing teacher (signs them out everywhere).")
@click.option("--admin", is_flag=True,
              help="Make an admin (manages teachers and classes, sees every essay). The first account made is always one.")
def create_teacher_cmd(email: str, name: str | None, password_stdin: bool, reset_password: bool, admin: bool) -> None:
    """Create a teacher account that can sign in at /teacher/login.

    \b
    Examples:
      khrushchev-essays create-teacher t.ivanova@school.example --name "Ms Ivanova"
      printf '%s\\n' "$PASSWORD" | khrushchev-essays create-teacher t.ivanova@school.example --password-stdin
    """
    from .storage.accounts import MIN_PASSWORD_LENGTH, AccountError, check_new_password, create_teacher

    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
        try:
            check_new_password(password)
        except AccountError as exc:
            click.echo(f"cannot create the teacher: {exc}", err=True)
            sys.exit(EXIT_USAGE)
    else:
        def check(value: str) -> str:
            try:
                check_new_password(value)
            except AccountError as exc:
                raise click.BadParameter(str(exc)) from None
            return value

        password = click.prompt(f"Password (at least {MIN_PASSWORD_LENGTH} characters)", hide_input=True,
                                confirmation_prompt=True, value_proc=check)
    app = database_app()
    with app.app_context():
        try:
            teacher = create_teacher(email, password, name=name, reset=reset_password, admin=admin)
        except AccountError as exc:
            click.echo(f"cannot {'reset the password' if reset_password else 'create the teacher'}: {exc}", err=True)
            sys.exit(EXIT_USAGE)
        action = "new password set for" if reset_password else f"created {'admin' if teacher.is_admin else 'teacher'}"
        click.echo(f"{action} {teacher.email}; sign in at /teacher/login")


@click.group("teachers", invoke_without_command=True)
@click.option("--deactivate", "deactivate_email", metavar="EMAIL", default=None,
              help="Deactivate this account: it is signed out everywhere and cannot sign in; its reviews keep its name.")
@click.pass_context
def teachers_group(ctx: click.Context, deactivate_email: str | None) -> None:
    """List teacher accounts (`teachers list`), or deactivate one (`teachers --deactivate EMAIL`)."""
    if deactivate_email is not None:
        _set_active(deactivate_email, False)
    elif ctx.invoked_subcommand is None:
        click.echo(ctx.get_help())


def _set_active(email: str, active: bool) -> None:
    from .storage.accounts import AccountError, set_active
    from .storage.audit import record_event

    with database_app().app_context():
        try:
            teacher = set_active(email, active)
        except AccountError as exc:
            click.echo(f"cannot {'reactivate' if active else 'deactivate'}: {exc}", err=True)
            sys.exit(EXIT_USAGE)
        record_event("activate" if active else "deactivate", None, detail={"teacher_id": teacher.id})
        click.echo(f"{teacher.email} " + ("can sign in again" if active else "is deactivated and signed out everywhere"))


@teachers_group.command("list")
def teachers_list() -> None:
    """Every account: email, name, role, state, classes, last sign-in."""
    from .storage.accounts import list_teachers

    with database_app().app_context():
        teachers = list_teachers()
        if not teachers:
            click.echo("no teachers yet: khrushchev-essays create-teacher EMAIL")
            return
        for t in teachers:
            classes = ", ".join(k.name for k in t.classes) or "-"
            seen = t.last_sign_in_at.strftime("%Y-%m-%d %H:%M") if t.last_sign_in_at else "never"
            click.echo(f"{t.email}\t{t.name or '-'}\t{t.role}\t{'active' if t.active else 'deactivated'}\t"
                       f"classes: {classes}\tlast sign-in: {seen}")


@teachers_group.command("deactivate")
@click.argument("email")
def teachers_deactivate(email: str) -> None:
    """Deactivate an account (the same as `teachers --deactivate EMAIL`)."""
    _set_active(email, False)


@teachers_group.command("activate")
@click.argument("email")
def teachers_activate(email: str) -> None:
    """Let a deactivated account sign in again."""
    _set_active(email, True)


@click.group("classes")
def classes_group() -> None:
    """Classes and their join codes."""


@classes_group.command("add")
@click.argument("name")
@click.option("--teacher", "emails", multiple=True, required=True, metavar="EMAIL",
              help="A teacher of the class (repeat for several). The accounts must exist.")
def classes_add(name: str, emails: tuple[str, ...]) -> None:
    """Make a class taught by the --teacher accounts and print its join code.

    \b
    Example:
      khrushchev-essays classes add "12C History" --teacher t.ivanova@school.example --teacher a.petrov@school.example
    """
    from .storage.accounts import find_teacher
    from .storage.classes import ClassError, create_class

    with database_app().app_context():
        teachers, missing = [], []
        for email in emails:
            teacher = find_teacher(email)
            (teachers if teacher is not None else missing).append(teacher if teacher is not None else email)
        if missing:
            click.echo(f"cannot make the class: no teacher with the email {', '.join(missing)}", err=True)
            sys.exit(EXIT_USAGE)
        try:
            klass = create_class(name, teachers)
        except ClassError as exc:
            click.echo(f"cannot make the class: {exc}", err=True)
            sys.exit(EXIT_USAGE)
        click.echo(klass.join_code)
        click.echo(f"made {klass.name!r} (taught by {', '.join(t.email for t in klass.teachers)}); students type "
                   f"the join code {klass.spaced_code} on the essay form", err=True)


@classes_group.command("list")
def classes_list() -> None:
    """Every class: join code, name, teachers, essays."""
    from sqlalchemy import func, select

    from .storage import Submission, db
    from .storage.classes import all_classes

    with database_app().app_context():
        counts = dict(db.session.execute(
            select(Submission.class_id, func.count()).where(Submission.class_id.is_not(None)).group_by(Submission.class_id)
        ).all())
        klasses = all_classes()
        if not klasses:
            click.echo("no classes yet: khrushchev-essays classes add NAME --teacher EMAIL")
        for k in klasses:
            click.echo(f"{k.join_code}\t{k.name}\t{', '.join(t.email for t in k.teachers)}\t{counts.get(k.id, 0)} essay(s)")


@classes_group.command("new-code")
@click.argument("code")
def classes_new_code(code: str) -> None:
    """Give the class with join code CODE a new code (the old one stops working) and print it."""
    from .storage.classes import regenerate_code

    with database_app().app_context():
        klass = class_or_exit(code)
        click.echo(regenerate_code(klass))


@click.command("purge")
@click.option("--older-than", "days", type=click.IntRange(min=0), default=None, metavar="DAYS",
              help="Delete essays stored more than DAYS days ago (default: KHRUSHCHEV_RETENTION_DAYS, 400).")
@click.option("--dry-run", is_flag=True, help="Only count what would be deleted.")
def purge_cmd(days: int | None, dry_run: bool) -> None:
    """Delete essays past the retention period, with their reviews and flags, and print the counts.

    \b
    Safe to run from cron (a second run finds nothing more to delete), e.g. daily:
      17 3 * * *  cd /srv/khrushchev && .venv/bin/khrushchev-essays purge
    """
    from .storage.privacy import purge

    app = database_app()
    with app.app_context():
        days = days if days is not None else int(app.config.get("RETENTION_DAYS") or 400)
        done = purge(days, dry_run=dry_run)
        verb = "would delete" if dry_run else "deleted"
        click.echo(f"{verb} {done.line()} older than {days} days")


COMMANDS = (create_teacher_cmd, teachers_group, classes_group, purge_cmd)
