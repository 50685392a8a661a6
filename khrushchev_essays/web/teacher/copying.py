"""Copying, on the teacher side: the registered sources (add, list, remove) and the pairs of essays
in a class that share long passages.

Sources live in the instance folder's store (khrushchev_essays/sources.py), the same one the
`khrushchev-essays sources` commands change; an uploaded file is read in memory by the batch
readers and only its text is kept. Pairs are found on demand (storage/similarity.py) and shown
for the teacher to judge: nothing is flagged or changed by looking.
"""

from __future__ import annotations

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import StringField, SubmitField
from wtforms.validators import Length, Optional

from ...inputs import size_limit
from ...scoring.copying import DEFAULT_PAIR_MIN_WORDS
from ...sources import NAME_MAX, SUFFIXES, SourceError, add_source_data, find_source, list_sources, remove_source
from ...storage.queries import filter_choices
from ...storage.similarity import similar_in_class
from ..views import rubrics
from . import bp, current_scope
from .forms import ActionForm
from .upload import MAX_REQUEST_BYTES, TOO_LARGE_VIEWS, display_name

MAX_SOURCE_MB = size_limit(".docx") // (1024 * 1024)
SHOWN_PASSAGES = 3  # per pair; the review pages have the rest


class SourceForm(FlaskForm):
    """One source file, and the name to list it under."""

    file = FileField("Source file", validators=[FileRequired("Choose a .txt, .md or .docx file.")],
                     render_kw={"accept": ",".join(SUFFIXES)},
                     description=f"Revision notes, a handout, a textbook page or a web article saved as .txt, .md or .docx "
                     f"(at most {MAX_SOURCE_MB} MB).")
    name = StringField("Name", validators=[Optional(), Length(max=NAME_MAX, message=f"A name is at most {NAME_MAX} characters.")],
                       description="Optional. How the source is named in flags and here; the file's name by default.",
                       render_kw={"maxlength": NAME_MAX, "autocomplete": "off"})
    submit = SubmitField("Add source")


def _instance() -> str:
    return current_app.instance_path


@bp.route("/sources", methods=["GET", "POST"])
def sources():
    """The registered sources and a form to add one; a valid post adds it and comes back here."""
    form = SourceForm()
    problems: list[str] = []
    if form.validate_on_submit():
        upload = form.file.data
        filename = display_name(upload, 1)
        data = upload.stream.read(size_limit(".docx") + 1)
        try:
            info = add_source_data(_instance(), data, filename, form.name.data or None)
        except SourceError as exc:
            problems.append(str(exc))
        else:
            flash(f"Added “{info.name}” ({info.words:,} words). New essays are checked against it.", "ok")
            return redirect(url_for("teacher.sources"), code=303)
    return _render(form, problems, 422 if request.method == "POST" else 200)


def _render(form: SourceForm, problems: list[str], status: int):
    try:
        entries, store_problem = list_sources(_instance()), None
    except SourceError as exc:
        entries, store_problem = [], str(exc)
    return render_template("teacher/sources.html", form=form, entries=entries, problems=problems,
                           store_problem=store_problem), status


def _source_too_large():
    problem = (f"That was more than {MAX_REQUEST_BYTES // (1024 * 1024)} MB: a source file can be at most "
               f"{MAX_SOURCE_MB} MB (.docx) or {size_limit('.txt') // (1024 * 1024)} MB (.txt, .md).")
    return _render(SourceForm(formdata=None), [problem], 413)


TOO_LARGE_VIEWS["teacher.sources"] = _source_too_large


@bp.route("/sources/<key>/remove", methods=["GET", "POST"])
def remove_source_page(key: str):
    """Ask before removing a source (GET); remove it (POST, with the form's CSRF token)."""
    try:
        info = find_source(_instance(), key) if len(key) == 16 and key.isalnum() else None
    except SourceError:
        info = None
    if info is None or info.key != key:
        abort(404, description="There is no registered source with that key; it may have been removed already.")
    form = ActionForm()
    if form.validate_on_submit():
        try:
            remove_source(_instance(), key)
        except SourceError as exc:
            flash(f"“{info.name}” could not be removed: {exc}", "error")
        else:
            flash(f"Removed “{info.name}”. Essays marked from now on are not checked against it.", "ok")
        return redirect(url_for("teacher.sources"), code=303)
    return render_template("teacher/source_remove.html", info=info, form=form)


@bp.get("/similar")
def similar():
    """Pairs of essays in one class that share long passages, with both students and the passage."""
    scope = current_scope()
    classes = filter_choices(scope)["classes"]
    class_code = (request.args.get("class") or "").strip().upper()[:32]
    if not class_code and len(classes) == 1:
        class_code = classes[0][0]
    result = None
    if class_code:
        result = similar_in_class(class_code, scope, common=[r.question for r in rubrics().values()])
    return render_template("teacher/similar.html", classes=classes, class_code=class_code, result=result,
                           shown=SHOWN_PASSAGES, min_words=DEFAULT_PAIR_MIN_WORDS)
