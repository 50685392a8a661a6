"""The teacher side's forms. Every form that changes something is a FlaskForm, so it carries a CSRF token."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    RadioField,
    SelectChoice,
    DecimalField,
    EmailField,
    HiddenField,
    IntegerField,
    PasswordField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, ValidationError

from ...scoring.report import ScoreReport
from ...storage.accounts import MAX_PASSWORD_LENGTH
from ...storage.classes import NAME_MAX as CLASS_NAME_MAX
from ...storage.look_again import ANSWER_MAX
from ...storage.reviews import COMMENT_MAX
from ...storage.teachers import EMAIL_MAX

_AUTO = object()


def _strip_newlines(value: str | None) -> str | None:
    # One form of line break, as the essay form keeps (browsers send CRLF); no NUL, which
    # PostgreSQL refuses to store.
    if not isinstance(value, str):
        return value
    return value.replace("\r\n", "\n").replace("\r", "\n").replace("\x00", "").strip()


def _no_controls(value: str | None) -> str | None:
    # An email never holds control characters; a NUL would make PostgreSQL refuse the lookup.
    return "".join(c for c in value if c >= " " and c != "\x7f") if isinstance(value, str) else value


class LoginForm(FlaskForm):
    """Email and password; `next` is where to go afterwards (checked to be a local teacher page)."""

    email = EmailField("Email", filters=[_no_controls], validators=[DataRequired("Enter your email."), Length(max=EMAIL_MAX)],
                       render_kw={"autocomplete": "username", "spellcheck": "false", "autocapitalize": "none"})
    password = PasswordField("Password", validators=[DataRequired("Enter your password."), Length(max=MAX_PASSWORD_LENGTH)],
                             render_kw={"autocomplete": "current-password"})
    next = HiddenField()
    submit = SubmitField("Sign in")


class ActionForm(FlaskForm):
    """A form with nothing but its CSRF token and a button: sign out, revert a change."""

    submit = SubmitField("Go")


class ClassForm(FlaskForm):
    """A class's name (to create one, or rename it)."""

    name = StringField("Class name", validators=[DataRequired("Give the class a name."),
                                                 Length(max=CLASS_NAME_MAX, message=f"Keep the name under {CLASS_NAME_MAX} characters.")],
                       description="As you and your students know it, such as “12C History”.",
                       render_kw={"maxlength": CLASS_NAME_MAX, "autocomplete": "off"})
    submit = SubmitField("Save")


class ConfirmDeleteForm(FlaskForm):
    """The confirmation step before essays are deleted for good."""

    student = HiddenField()
    confirm = BooleanField("I understand that this cannot be undone",
                           validators=[DataRequired("Tick the box to confirm the deletion.")])
    submit = SubmitField("Delete for good")


def _half_marks(form: FlaskForm, field: DecimalField) -> None:
    if field.data is not None and (field.data * 2) % 1 != 0:
        raise ValidationError("Use whole or half marks, such as 4 or 4.5.")


def review_form(report: ScoreReport, max_mark: int, formdata=_AUTO) -> FlaskForm:
    """The override form for one report: a field per criterion (0 to its maximum, in half marks),
    the final mark (0 to the rubric's maximum), a comment for the student, and the change it is based on.

    Built per report because the criteria and their ranges come from the rubric the essay was marked on.
    """

    class ReviewForm(FlaskForm):
        mark = IntegerField(
            "Final mark", validators=[InputRequired("Give a final mark."),
                                      NumberRange(0, max_mark, f"The final mark must be a whole number from 0 to {max_mark}.")],
            render_kw={"min": 0, "max": max_mark, "step": 1, "inputmode": "numeric"},
        )
        comment = TextAreaField(
            "Comment for the student", filters=[_strip_newlines],
            validators=[Length(max=COMMENT_MAX, message=f"Keep the comment under {COMMENT_MAX:,} characters.")],
            description="Shown on the student’s feedback page beside the automatic feedback.",
            render_kw={"rows": 5, "maxlength": COMMENT_MAX},
        )
        own_mark = BooleanField(
            "I set this mark myself",
            description="Leave unticked and the final mark follows your criterion marks through the scheme’s curve.",
        )
        based_on = HiddenField()
        submit = SubmitField("Save review")

    names = {}
    for c in report.criteria:
        name = f"crit_{c.id}"
        names[c.id] = name
        top = c.max_mark
        setattr(ReviewForm, name, DecimalField(
            c.name, places=None,
            validators=[InputRequired(f"Give a mark for {c.name}."),
                        NumberRange(0, top, f"{c.name}: from 0 to {top:g}."), _half_marks],
            render_kw={"min": 0, "max": f"{top:g}", "step": 0.5, "inputmode": "decimal"},
        ))
    form = ReviewForm() if formdata is _AUTO else ReviewForm(formdata=formdata)
    form.criterion_fields = [(c, form[names[c.id]]) for c in report.criteria]
    return form


class LookAgainAnswerForm(FlaskForm):
    """The teacher's answer to a student's request to look again; sending it closes the request."""

    answer = TextAreaField(
        "Your answer to the student", filters=[_strip_newlines],
        validators=[DataRequired("Write a short answer for the student."),
                    Length(max=ANSWER_MAX, message=f"Keep the answer under {ANSWER_MAX:,} characters.")],
        description="Shown on the student’s feedback page. To change the mark too, save your review below as well.",
        render_kw={"rows": 3, "maxlength": ANSWER_MAX},
    )
    submit = SubmitField("Send the answer and close the request")


class ReleaseModeForm(FlaskForm):
    """When a class's students see their feedback."""

    mode = RadioField("When do students see their feedback?", choices=[
        SelectChoice("immediate", "At once: the automatic mark and feedback as soon as the essay is marked"),
        SelectChoice("after_review",
                     "After review: held until a teacher has reviewed the essay and released the class’s feedback"),
    ], validators=[InputRequired("Choose when students see their feedback.")])
    submit = SubmitField("Save")
