"""Batch upload: several .txt/.md/.docx essays or one CSV, graded with the CLI's readers and scorer,
stored, and listed with each file's (or row's) result or error.

Uploads are read in memory, never written to disk, and the names people give their files are only
ever shown (escaped), never used as paths. Limits: `MAX_FILES` files, `MAX_FILE_BYTES` each,
`MAX_REQUEST_BYTES` in all, `MAX_ESSAYS` essays from one upload.
"""

from __future__ import annotations

import io
import secrets
from pathlib import PurePosixPath

from flask import current_app, render_template, request, session
from flask_login import current_user
from flask_wtf import FlaskForm
from werkzeug.datastructures import FileStorage
from wtforms import HiddenField, MultipleFileField, SelectField, SubmitField
from wtforms.validators import InputRequired, Length, Optional

from ...batch import score_items
from ...inputs import AUTO, Item, clean_name, read_data
from ...sources import marking_index
from ...storage.imports import resolve_classes, store_reports
from ..errors import TOO_LARGE_VIEWS
from ..request import SiteRequest
from ..views import rubrics
from . import bp, current_scope

MAX_FILES = 40
MAX_FILE_BYTES = 5 * 1024 * 1024
MAX_REQUEST_BYTES = 25 * 1024 * 1024
MAX_ESSAYS = 200
ESSAY_SUFFIXES = (".txt", ".md", ".docx")
TABLE_SUFFIX = ".csv"
NAME_MAX = 120  # characters of a file name shown
DONE_KEY = "uploads_done"  # the ids of this session's last uploads, in the signed session
DONE_KEEP = 10
# The forms that take files: the essay upload, and a source file on the sources page (a .docx with images).
LARGE_BODY_ENDPOINTS = ("teacher.upload", "teacher.sources")


class InMemoryRequest(SiteRequest):
    """Keep uploaded files in memory (BytesIO) instead of Werkzeug's spill-to-disk temporary files.

    Safe because every request body is capped by max_content_length (512 KB for the site, and
    MAX_REQUEST_BYTES on the upload page, the only form that takes files).
    """

    def _get_file_stream(self, total_content_length, content_type, filename=None, content_length=None):
        return io.BytesIO()

    @property
    def max_content_length(self) -> int | None:
        # Decided before anything reads the body (the CSRF check reads the form before any view
        # runs): the large limit only for a signed-in teacher posting to a page that takes files.
        if self.endpoint in LARGE_BODY_ENDPOINTS and current_user.is_authenticated:
            return MAX_REQUEST_BYTES
        return super().max_content_length

    @max_content_length.setter
    def max_content_length(self, value: int | None) -> None:
        self._max_content_length = value


class UploadForm(FlaskForm):
    """The files, the question they answer, and the class (one of the teacher's) they belong to."""

    files = MultipleFileField("Essay files", render_kw={"accept": ".txt,.md,.docx,.csv"},
                              description=f"Up to {MAX_FILES} .txt, .md or .docx essays, or one .csv with a row per essay "
                              f"(columns: student or name, class, question, essay or text). At most "
                              f"{MAX_FILE_BYTES // (1024 * 1024)} MB a file.")
    question = SelectField("Question", default=AUTO)
    class_code = SelectField(
        "Class", validators=[InputRequired("Choose the class these essays belong to (make one on the Classes page).")],
        description="Every essay goes into this class, unless its CSV row gives the join code of another of your classes.",
    )
    # A fresh random id with every form shown: a resent post (a reload of the results page) is
    # recognised by it and stores nothing twice.
    upload_id = HiddenField(validators=[Optional(), Length(max=64)])
    submit = SubmitField("Upload and mark")


def display_name(upload: FileStorage, number: int) -> str:
    """The file's own name for showing in messages: last path component only, without control or
    bidi characters (batch.clean_name), shortened to NAME_MAX keeping its extension."""
    raw = (upload.filename or "").replace("\\", "/")
    name = clean_name(PurePosixPath(raw).name, NAME_MAX, keep_suffix=True)
    return name or f"file {number}"


def read_uploads(uploads: list[FileStorage], known: list[str]) -> tuple[list[Item], list[str]]:
    """Items for every essay in the uploads (unreadable ones as error Items), or form-level problems."""
    if not uploads:
        return [], ["Choose at least one file to upload."]
    if len(uploads) > MAX_FILES:
        return [], [f"That was {len(uploads)} files: upload at most {MAX_FILES} at a time."]
    names = [display_name(u, i) for i, u in enumerate(uploads, 1)]
    suffixes = [PurePosixPath(n).suffix.lower() for n in names]
    if TABLE_SUFFIX in suffixes and len(uploads) > 1:
        return [], ["Upload either essay files or one CSV, not both: a CSV already holds a whole class."]
    items: list[Item] = []
    for upload, name, suffix in zip(uploads, names, suffixes):
        if suffix not in (*ESSAY_SUFFIXES, TABLE_SUFFIX):
            items.append(Item(name, error=f"{name}: not a file this page reads (use .txt, .md, .docx or one .csv)"))
            continue
        data = upload.stream.read(MAX_FILE_BYTES + 1)
        if len(data) > MAX_FILE_BYTES:
            items.append(Item(name, error=f"{name}: is too large (the limit is {MAX_FILE_BYTES // (1024 * 1024)} MB a file)"))
            continue
        items.extend(read_data(data, suffix, name, known))
    essays = sum(item.error is None for item in items)
    if essays > MAX_ESSAYS:
        return [], [f"That upload holds {essays} essays: upload at most {MAX_ESSAYS} at a time."]
    return items, []


@bp.route("/upload", methods=["GET", "POST"])
def upload():
    """The upload form; a valid post grades and stores every essay and lists the results."""
    known = list(rubrics())
    scope = current_scope()
    form = UploadForm()
    form.question.choices = [(AUTO, "Detect it for each essay")] + [(q, f"{q.upper()}: {r.title}") for q, r in rubrics().items()]
    form.class_code.choices = _class_choices(scope)
    if not form.validate_on_submit():
        return _render(form, known), 422 if request.method == "POST" else 200
    upload_id = form.upload_id.data or ""
    if upload_id and upload_id in session.get(DONE_KEY, []):
        notice = ("Those files were already uploaded and marked (the page was reloaded or sent twice), so nothing "
                  "was stored again. They are on the dashboard.")
        return _render(UploadForm(formdata=None), known, notice=notice)
    uploads = [f for f in request.files.getlist(form.files.name) if f and (f.filename or f.content_length)]
    items, problems = read_uploads(uploads, known)
    if problems:
        return _render(form, known, problems=problems), 422
    # Only the teacher's own classes: a CSV row naming any other code is an error row, stored nowhere.
    items, classes = resolve_classes(items, scope.class_by_code, default=scope.class_by_code(form.class_code.data),
                                     unknown="no class of yours has the join code {code}")
    reports = score_items(items, form.question.data, jobs=1, sources=marking_index(current_app.instance_path))
    results = list(store_reports(items, reports, classes, source="upload"))
    if upload_id:
        session[DONE_KEY] = [*session.get(DONE_KEY, []), upload_id][-DONE_KEEP:]
    return _render(form, known, results=results)


def upload_too_large():
    """The upload form again, saying how much it takes."""
    problem = f"The upload was larger than {MAX_REQUEST_BYTES // (1024 * 1024)} MB in all: send fewer files at a time."
    return _render(UploadForm(formdata=None), list(rubrics()), problems=[problem]), 413


# The pages that take files answer a body over their limit with their own form and a message
# (errors.handle_too_large, the one 413 handler for the whole site); copying.py adds its page.
TOO_LARGE_VIEWS["teacher.upload"] = upload_too_large


def _class_choices(scope) -> list[tuple[str, str]]:
    return [(k.join_code, k.label) for k in scope.classes()]


def _render(form, known, problems=None, results=None, notice=None):
    if not form.question.choices:
        form.question.choices = [(AUTO, "Detect it for each essay")] + [(q, q.upper()) for q in known]
    if not form.class_code.choices:
        form.class_code.choices = _class_choices(current_scope())
    form.upload_id.data = secrets.token_urlsafe(16)  # every form shown is a new upload
    stored = sum(sub is not None for _i, _r, sub in results or [])
    return render_template("teacher/upload.html", form=form, problems=problems or [], results=results,
                           stored=stored, notice=notice, limits={"files": MAX_FILES, "mb": MAX_FILE_BYTES // (1024 * 1024),
                                                  "total_mb": MAX_REQUEST_BYTES // (1024 * 1024), "essays": MAX_ESSAYS})
