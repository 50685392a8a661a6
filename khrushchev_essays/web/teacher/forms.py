"""The teacher side's forms. Every form that changes something is a FlaskForm, so it carries a CSRF token."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import EmailField, HiddenField, PasswordField, SubmitField
from wtforms.validators import DataRequired, Length

from ...storage.accounts import MAX_PASSWORD_LENGTH
from ...storage.teachers import EMAIL_MAX


class LoginForm(FlaskForm):
    """Email and password; `next` is where to go afterwards (checked to be a local teacher page)."""

    email = EmailField("Email", validators=[DataRequired("Enter your email."), Length(max=EMAIL_MAX)],
                       render_kw={"autocomplete": "username", "spellcheck": "false", "autocapitalize": "none"})
    password = PasswordField("Password", validators=[DataRequired("Enter your password."), Length(max=MAX_PASSWORD_LENGTH)],
                             render_kw={"autocomplete": "current-password"})
    next = HiddenField()
    submit = SubmitField("Sign in")


class ActionForm(FlaskForm):
    """A form with nothing but its CSRF token and a button: sign out, revert a change."""

    submit = SubmitField("Go")
