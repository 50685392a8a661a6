"""Classes and students' data: a teacher's classes with their join codes, creating and renaming them,
a new code, and, per student, the subject-access export and deletion on request.

Everything goes through `current_scope()`: a class the teacher does not teach, or an essay outside
their classes, is a 404 here exactly as if it did not exist. Deletions need a confirmation step
(a page saying what will go, then a ticked box) and are logged without text (storage.privacy).
"""

from __future__ import annotations

import json

from flask import Response, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from ...inputs import clean_name
from ...storage.classes import ClassError, SchoolClass, create_class, regenerate_code, rename_class
from ...storage.privacy import class_students, delete_student, delete_submission, student_submissions, subject_access
from ...storage.release import release_reviewed, set_release_mode, waiting
from . import bp, current_scope
from .forms import ActionForm, ClassForm, ConfirmDeleteForm, ReleaseModeForm
from .review import submission_or_404

STUDENT_MAX = 80


def class_or_404(class_id: int) -> SchoolClass:
    """The class if the signed-in teacher teaches it (an admin: any class); else a 404."""
    klass = current_scope().get_class(class_id)
    if klass is None:
        abort(404, description="There is no class with that number.")
    return klass


@bp.route("/classes", methods=["GET", "POST"])
def classes():
    """The teacher's classes with their join codes, and a form to make a new one (they teach it)."""
    form = ClassForm()
    if form.validate_on_submit():
        try:
            klass = create_class(form.name.data, [current_user._get_current_object()])
        except ClassError as exc:
            form.name.errors = [*form.name.errors, str(exc)]
        else:
            flash(f"Class “{klass.name}” made. Give your students the join code {klass.spaced_code}.", "info")
            return redirect(url_for(".class_page", class_id=klass.id), code=303)
    status = 422 if request.method == "POST" else 200
    return render_template("teacher/classes.html", form=form, classes=current_scope().classes()), status


@bp.get("/classes/<int:class_id>")
def class_page(class_id: int):
    """One class: its join code (large, for a slide), rename, a new code, and its students' data."""
    klass = class_or_404(class_id)
    return _render_class(klass, ClassForm(formdata=None, data={"name": klass.name}))


def _render_class(klass: SchoolClass, form: ClassForm, status: int = 200, release_form: ReleaseModeForm | None = None):
    return render_template("teacher/class.html", klass=klass, form=form, action_form=ActionForm(formdata=None),
                           students=class_students(current_scope(), klass),
                           release_form=release_form or ReleaseModeForm(formdata=None, data={"mode": klass.release_mode}),
                           waiting=waiting(klass) if klass.holds_feedback else None), status


@bp.post("/classes/<int:class_id>/release-mode")
def release_mode(class_id: int):
    """Choose when the class's students see their feedback: at once, or after review and release."""
    klass = class_or_404(class_id)
    form = ReleaseModeForm()
    if not form.validate_on_submit():
        return _render_class(klass, ClassForm(formdata=None, data={"name": klass.name}), 422, release_form=form)
    if set_release_mode(klass, form.mode.data, current_user._get_current_object()):
        flash("Students now see their feedback as soon as their essay is marked." if form.mode.data == "immediate" else
              "Feedback is now held: students see it once a teacher has reviewed their essay and released the "
              "class’s feedback. Essays already in the class stay visible.", "info")
    return redirect(url_for(".class_page", class_id=klass.id) + "#release", code=303)


@bp.post("/classes/<int:class_id>/release")
def release(class_id: int):
    """Release the feedback of every reviewed essay of the class that is still held."""
    klass = class_or_404(class_id)
    if not ActionForm().validate_on_submit():
        abort(400, description="The form had expired: reload the page and try again.")
    count = release_reviewed(klass, current_user._get_current_object())
    flash(f"Released the feedback of {count} reviewed essay{'' if count == 1 else 's'}." if count else
          "There was no reviewed essay waiting to be released.", "info")
    return redirect(url_for(".class_page", class_id=klass.id) + "#release", code=303)


@bp.post("/classes/<int:class_id>/rename")
def rename(class_id: int):
    """Give the class a new name; its code and essays stay."""
    klass = class_or_404(class_id)
    form = ClassForm()
    if not form.validate_on_submit():
        return _render_class(klass, form, 422)
    try:
        rename_class(klass, form.name.data)
    except ClassError as exc:
        form.name.errors = [*form.name.errors, str(exc)]
        return _render_class(klass, form, 422)
    flash(f"Renamed to “{klass.name}”.", "info")
    return redirect(url_for(".class_page", class_id=klass.id), code=303)


@bp.post("/classes/<int:class_id>/code")
def new_code(class_id: int):
    """A new join code: the old one stops working (essays already sent stay in the class)."""
    klass = class_or_404(class_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    regenerate_code(klass)
    flash(f"New join code {klass.spaced_code}: the old code no longer joins this class.", "info")
    return redirect(url_for(".class_page", class_id=klass.id), code=303)


def _student_arg() -> str:
    # Cleaned as stored names are (batch.clean_name): a control character never reaches a query.
    name = clean_name(request.values.get("student") or "")[:STUDENT_MAX]
    if not name:
        abort(404, description="Say which student: their name as it appears on their essays.")
    return name


@bp.get("/classes/<int:class_id>/student-data.json")
def student_data(class_id: int):
    """Subject access: everything held about one named student in this class, as a JSON download."""
    klass = class_or_404(class_id)
    body = subject_access(current_scope(), klass, _student_arg(), current_user._get_current_object())
    return Response(json.dumps(body, ensure_ascii=False, indent=1), mimetype="application/json",
                    headers={"Content-Disposition": 'attachment; filename="student-data.json"'})


@bp.route("/classes/<int:class_id>/delete-student", methods=["GET", "POST"])
def delete_student_page(class_id: int):
    """Delete every essay of one named student in this class: a confirmation page, then the deletion."""
    klass = class_or_404(class_id)
    name = _student_arg()
    subs = student_submissions(current_scope(), klass, name)
    form = ConfirmDeleteForm(data={"student": name})
    if request.method == "POST" and form.validate_on_submit():
        done = delete_student(current_scope(), klass, name, current_user._get_current_object())
        flash(f"Deleted {done.submissions} essay(s) of that student, with their reviews.", "info")
        return redirect(url_for(".class_page", class_id=klass.id), code=303)
    status = 422 if request.method == "POST" else 200
    return render_template("teacher/confirm_delete.html", form=form, klass=klass, student=name, subs=subs,
                           action=url_for(".delete_student_page", class_id=klass.id, student=name),
                           back=url_for(".class_page", class_id=klass.id)), status


@bp.route("/submissions/<int:sub_id>/delete", methods=["GET", "POST"])
def delete_submission_page(sub_id: int):
    """Delete one essay (with its review and history): a confirmation page, then the deletion."""
    sub = submission_or_404(sub_id)
    form = ConfirmDeleteForm()
    if request.method == "POST" and form.validate_on_submit():
        delete_submission(current_scope(), sub.id, current_user._get_current_object())
        flash("The essay was deleted, with its review.", "info")
        return redirect(url_for(".dashboard"), code=303)
    status = 422 if request.method == "POST" else 200
    return render_template("teacher/confirm_delete.html", form=form, klass=sub.klass, student=None, subs=[sub],
                           action=url_for(".delete_submission_page", sub_id=sub.id),
                           back=url_for(".review", sub_id=sub.id)), status
