"""Storage: SQLAlchemy models and queries for scored submissions, teachers and their reviews.

Imports run one way (scoring <- storage <- web, cli): this package uses the engine's report type
and never imports the web app.
"""

from .db import Base, UTCDateTime, configure_engine, db, restrict_sqlite_files, utcnow
from .models import SOURCES, Submission, SubmissionFlag
from .submissions import attempt_history, get_by_token, new_token, save_submission
from .reviews import reviewed_submissions
from .teachers import LoginAttempt, Review, ReviewChange, Teacher

__all__ = [
    "SOURCES",
    "Base",
    "LoginAttempt",
    "Review",
    "ReviewChange",
    "Submission",
    "SubmissionFlag",
    "Teacher",
    "UTCDateTime",
    "attempt_history",
    "configure_engine",
    "db",
    "get_by_token",
    "new_token",
    "reviewed_submissions",
    "restrict_sqlite_files",
    "save_submission",
    "utcnow",
]
