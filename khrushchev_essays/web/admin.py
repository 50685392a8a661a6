"""The admin pages: teacher accounts (create, deactivate, reactivate), every class with its teachers,
essays with old free-text class codes (attach them to a class), and the audit log.

The whole blueprint needs a signed-in admin, checked once in `before_request`: signed out, the
sign-in page; signed in as a teacher, a 404 (the pages are not there for them).
"""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, HiddenField, PasswordField, SelectField, SelectMultipleField, StringField, SubmitField
from wtforms.validators import DataRequired, InputRequired, Length

from ..storage import db
from ..storage.accounts import MAX_PASSWORD_LENGTH, AccountError, create_teacher, list_teachers, set_active
from ..storage.audit import record_event, recent_events
from ..storage.classes import (
    NAME_MAX,
    ClassError,
    SchoolClass,
    add_teacher_to_class,
    all_classes,
    attach_legacy_code,
    create_class,
    legacy_codes,
)
from ..storage.teachers import EMAIL_MAX, Teacher
from .teacher import private, require_teacher
from .teacher.auth import teacher_globals
from .teacher.forms import ActionForm

bp = Blueprint("admin", __name__, url_prefix="/admin")
bp.after_request(private)
bp.context_processor(teacher_globals)


@bp.before_request
def require_admin():
    """Signed out (or idle too long): the sign-in page, as on the teacher side. A teacher: 404."""
    redirect_to_login = require_teacher()
    if redirect_to_login is not None:
        return redirect_to_login
    if not current_user.is_admin:
        abort(404)
    return None


class TeacherForm(FlaskForm):
    """A new account: email, name, a first password, and whether it is an admin."""

    email = EmailField("Email", validators=[DataRequired("Enter the teacher's email."), Length(max=EMAIL_MAX)])
    name = StringField("Name", validators=[Length(max=80)], description="Shown on reviews, e.g. “Ms Ivanova”.")
    password = PasswordField("First password", validators=[DataRequired("Give a first password."), Length(max=MAX_PASSWORD_LENGTH)],
                             description="At least 10 characters. Tell the teacher in person; they can have it reset later.",
                             render_kw={"autocomplete": "new-password"})
    admin = BooleanField("Admin (manages teachers and classes, sees every essay)")
    submit = SubmitField("Create the account")


class NewClassForm(FlaskForm):
    """A class with a name and one or more teachers."""

    name = StringField("Class name", validators=[DataRequired("Give the class a name."), Length(max=NAME_MAX)])
    teachers = SelectMultipleField("Teachers", coerce=int, validators=[InputRequired("Choose at least one teacher.")])
    submit = SubmitField("Make the class")


class AddTeacherForm(FlaskForm):
    """Another teacher for an existing class."""

    teacher = SelectField("Add a teacher", coerce=int)
    submit = SubmitField("Add")


class AttachForm(FlaskForm):
    """Put every class-less essay with an old free-text code into a class."""

    code = HiddenField(validators=[DataRequired()])
    class_id = SelectField("Attach to", coerce=int)
    submit = SubmitField("Attach")


def _teacher_choices() -> list[tuple[int, str]]:
    return [(t.id, f"{t.display_name} <{t.email}>") for t in list_teachers() if t.active]


@bp.get("/")
def index():
    """Every account with its role, state and classes, and the form to make one."""
    return _render_index(TeacherForm(formdata=None))


def _render_index(form: TeacherForm, status: int = 200):
    return render_template("admin/index.html", teachers=list_teachers(), form=form,
                           action_form=ActionForm(formdata=None)), status


@bp.post("/teachers")
def add_teacher():
    """Create an account (the same as `khrushchev-essays create-teacher`)."""
    form = TeacherForm()
    if not form.validate_on_submit():
        return _render_index(form, 422)
    try:
        teacher = create_teacher(form.email.data, form.password.data, name=form.name.data or None, admin=form.admin.data)
    except AccountError as exc:
        form.form_errors.append(str(exc).capitalize() + ".")
        return _render_index(form, 422)
    record_event("create_teacher", current_user, detail={"teacher_id": teacher.id, "role": teacher.role})
    flash(f"Account made for {teacher.email} ({teacher.role}).", "info")
    return redirect(url_for(".index"), code=303)


@bp.post("/teachers/<int:teacher_id>/active")
def set_teacher_active(teacher_id: int):
    """Deactivate (signs them out everywhere; their reviews keep their name) or reactivate an account."""
    teacher = db.get_or_404(Teacher, teacher_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    active = request.form.get("active") == "1"
    try:
        set_active(teacher.email, active)
    except AccountError as exc:
        flash(f"Not changed: {exc}.", "error")
    else:
        record_event("activate" if active else "deactivate", current_user, detail={"teacher_id": teacher.id})
        flash(f"{teacher.email} is {'active again' if active else 'deactivated and signed out everywhere'}.", "info")
    return redirect(url_for(".index"), code=303)


@bp.get("/classes")
def classes():
    """Every class with its code and teachers; old free-text codes waiting to be attached."""
    return _render_classes(NewClassForm(formdata=None))


def _render_classes(form: NewClassForm, status: int = 200):
    choices = _teacher_choices()
    form.teachers.choices = choices
    klasses = all_classes()
    add_forms = {}
    for k in klasses:
        f = AddTeacherForm(formdata=None, prefix=f"k{k.id}")
        f.teacher.choices = [c for c in choices if c[0] not in {t.id for t in k.teachers}]
        add_forms[k.id] = f
    attach = []
    for code, n in legacy_codes():
        f = AttachForm(formdata=None, data={"code": code}, prefix="attach")
        f.class_id.choices = [(k.id, k.label) for k in klasses]
        attach.append((code, n, f))
    return render_template("admin/classes.html", classes=klasses, form=form, add_forms=add_forms, attach=attach), status


@bp.post("/classes")
def add_class():
    """Make a class with its teachers (the same as `khrushchev-essays classes add`)."""
    form = NewClassForm()
    form.teachers.choices = _teacher_choices()
    if not form.validate_on_submit():
        return _render_classes(form, 422)
    teachers = [db.session.get(Teacher, tid) for tid in form.teachers.data]
    try:
        klass = create_class(form.name.data, [t for t in teachers if t is not None])
    except ClassError as exc:
        form.name.errors = [*form.name.errors, str(exc)]
        return _render_classes(form, 422)
    flash(f"Class “{klass.name}” made; its join code is {klass.spaced_code}.", "info")
    return redirect(url_for(".classes"), code=303)


@bp.post("/classes/<int:class_id>/teachers")
def add_class_teacher(class_id: int):
    """Another teacher for a class."""
    klass = db.get_or_404(SchoolClass, class_id)
    form = AddTeacherForm(prefix=f"k{klass.id}")
    form.teacher.choices = _teacher_choices()
    if not form.validate_on_submit():
        flash("Choose a teacher to add.", "error")
        return redirect(url_for(".classes"), code=303)
    add_teacher_to_class(klass, db.get_or_404(Teacher, form.teacher.data))
    flash(f"{klass.name} now has {len(klass.teachers)} teacher(s).", "info")
    return redirect(url_for(".classes"), code=303)


@bp.post("/legacy-codes")
def attach_code():
    """Attach every class-less essay with an old free-text code to a class."""
    form = AttachForm(prefix="attach")
    form.class_id.choices = [(k.id, k.label) for k in all_classes()]
    if not form.validate_on_submit():
        flash("Choose a class to attach those essays to.", "error")
        return redirect(url_for(".classes"), code=303)
    klass = db.get_or_404(SchoolClass, form.class_id.data)
    moved = attach_legacy_code(form.code.data, klass)
    record_event("attach_code", current_user, count=moved, class_id=klass.id)
    flash(f"{moved} essay(s) with the code {form.code.data} are now in {klass.name}.", "info")
    return redirect(url_for(".classes"), code=303)


@bp.get("/audit")
def audit():
    """The audit log: exports, deletions, purges and account changes, newest first."""
    return render_template("admin/audit.html", events=recent_events())
