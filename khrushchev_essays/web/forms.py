"""The essay form. Flask-WTF adds a CSRF token to it; the engine's own check decides what can be marked."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import StringField, SubmitField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional, Regexp, ValidationError

from ..inputs import STUDENT_NAME_MAX, name_problem
from ..scoring import InputError, check_text
from ..storage.look_again import REASON_MAX, REASON_MIN

NAME_MAX, CLASS_CODE_MAX = STUDENT_NAME_MAX, 20


def _strip(value: str | None) -> str | None:
    return value.strip() if isinstance(value, str) else value


def _class_code(value: str | None) -> str | None:
    # Teachers filter by class code: "11b", " 11B " and "11B" are one class.
    return value.strip().upper() if isinstance(value, str) else value


def _newlines(value: str | None) -> str | None:
    # Browsers send textarea line breaks as CRLF. The engine's offsets, the stored text and the
    # highlighted page must all count characters the same way, so one form of line break is kept.
    return value.replace("\r\n", "\n").replace("\r", "\n") if isinstance(value, str) else value


class EssayForm(FlaskForm):
    """Optional name and class code, and the essay itself."""

    student_name = StringField(
        "Your name",
        filters=[_strip],
        validators=[Optional(), Length(max=NAME_MAX, message=f"Keep your name under {NAME_MAX} characters.")],
        description="Optional. Shown on your feedback page and to your teacher.",
        render_kw={"autocomplete": "name", "maxlength": NAME_MAX, "spellcheck": "false"},
    )
    class_code = StringField(
        "Class code",
        filters=[_class_code],
        validators=[
            Optional(),
            Length(max=CLASS_CODE_MAX, message=f"A class code is at most {CLASS_CODE_MAX} characters."),
            Regexp(r"^[A-Z0-9][A-Z0-9 _-]*$", message="Use letters and numbers only, as your teacher gave it."),
        ],
        description="Optional. The join code your teacher gave you, such as KXR 7DM. Leave it empty to practise on your "
                    "own: then no teacher sees your essay, only the site’s administrators.",
        render_kw={"autocomplete": "off", "maxlength": CLASS_CODE_MAX, "spellcheck": "false", "autocapitalize": "characters"},
    )
    text = TextAreaField(
        "Your essay",
        filters=[_newlines],
        render_kw={"rows": 22, "spellcheck": "true", "autocapitalize": "sentences"},
    )
    submit = SubmitField("Submit for feedback")

    def validate_student_name(self, field: StringField) -> None:
        """Refuse control characters (tab and newline too) and invisible format characters such as
        U+202E: they are never part of a name, break CSV exports and can disguise a name."""
        if field.data and name_problem(field.data):
            raise ValidationError("Your name contains characters that cannot be stored.")

    def validate_text(self, field: TextAreaField) -> None:
        """Apply the engine's own limits (empty, over 6,000 words or 60,000 characters...)."""
        if not field.data or not field.data.strip():
            raise ValidationError("The essay is empty. Write your answer in the box, then submit it.")
        try:
            check_text(field.data)
        except InputError as exc:
            raise ValidationError(str(exc)) from None


def _reason(value: str | None) -> str | None:
    # One form of line break and no control characters but newlines (a NUL cannot be stored).
    if not isinstance(value, str):
        return value
    value = value.replace("\r\n", "\n").replace("\r", "\n")
    return "".join(c for c in value if c == "\n" or (c >= " " and c != "\x7f")).strip()


class LookAgainForm(FlaskForm):
    """A student's request for their teacher to look again at the mark, with a short reason."""

    reason = TextAreaField(
        "What should your teacher look at again?",
        filters=[_reason],
        validators=[DataRequired("Say in a few words what you would like your teacher to look at."),
                    Length(min=REASON_MIN, max=REASON_MAX,
                           message=f"Say it in {REASON_MIN} to {REASON_MAX} characters.")],
        description=f"A sentence or two, up to {REASON_MAX} characters: for example, which part you think "
                    "the marker missed.",
        render_kw={"rows": 3, "maxlength": REASON_MAX, "spellcheck": "true"},
    )
    submit = SubmitField("Ask my teacher to look again")
