"""Storage: SQLAlchemy models and queries for scored submissions, teachers and their reviews.

Imports run one way (scoring <- storage <- web, cli): this package uses the engine's report type
and never imports the web app.
"""

from .db import Base, UTCDateTime, configure_engine, db, json_dumps, restrict_sqlite_files, utcnow
from .models import SOURCES, Submission, SubmissionFlag
from .submissions import attempt_history, get_by_token, new_token, save_submission
from .calibration_runs import CalibrationRun, ReviewedEssay, recent_runs, record_run, reviewed_counts, reviewed_essays
from .teachers import LoginAttempt, Review, ReviewChange, Teacher
from .classes import ClassError, SchoolClass, class_by_code
from .scope import Scope
from .audit import AuditEvent, record_event
from .release import feedback_visible
from .look_again import LookAgainRequest

__all__ = [
    "SOURCES",
    "AuditEvent",
    "Base",
    "CalibrationRun",
    "ClassError",
    "LoginAttempt",
    "LookAgainRequest",
    "Review",
    "ReviewChange",
    "ReviewedEssay",
    "SchoolClass",
    "Scope",
    "Submission",
    "SubmissionFlag",
    "Teacher",
    "UTCDateTime",
    "attempt_history",
    "class_by_code",
    "configure_engine",
    "db",
    "feedback_visible",
    "json_dumps",
    "get_by_token",
    "new_token",
    "recent_runs",
    "record_event",
    "record_run",
    "reviewed_counts",
    "reviewed_essays",
    "restrict_sqlite_files",
    "save_submission",
    "utcnow",
]
