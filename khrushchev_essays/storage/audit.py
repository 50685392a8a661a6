"""The audit log: who exported or deleted students' data, and when.

One `audit_events` row per export (CSV, JSON, a student's subject-access file), deletion (one
essay, a student's essays in a class, a purge), account or class change an admin makes, and
release of a class's feedback (or a change of when it is released). A row
says who (the account, and its email copied at the time), when, what, which class and how many
essays; it never holds an essay's text or a student's name, so deleting a student's data on
request leaves nothing of it behind in the log.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Integer, String, select
from sqlalchemy.orm import Mapped, mapped_column

from .db import UTCDateTime, db, utcnow
from .models import JSONType
from .teachers import EMAIL_MAX

ACTIONS = {
    "export_csv": "Exported submissions (CSV)",
    "export_json": "Exported submissions (JSON)",
    "class_pack": "Printed a class pack of feedback links",
    "subject_access": "Exported a student's data (subject access)",
    "delete_submission": "Deleted an essay",
    "delete_student": "Deleted a student's essays in a class",
    "purge": "Purged essays past the retention period",
    "attach_code": "Attached essays with an old class code to a class",
    "deactivate": "Deactivated a teacher",
    "activate": "Reactivated a teacher",
    "create_teacher": "Created a teacher account",
    "release_feedback": "Released a class's reviewed feedback to its students",
    "release_mode": "Changed when a class's students see their feedback",
}
COMMAND_LINE = "command line"


class AuditEvent(db.Model):  # type: ignore[name-defined,misc]
    """One logged action. `detail` holds filters or ids, never essay text or student names."""

    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    teacher_id: Mapped[int | None] = mapped_column(ForeignKey("teachers.id", ondelete="SET NULL"))
    actor: Mapped[str] = mapped_column(String(EMAIL_MAX))  # the email at the time, or "command line"
    action: Mapped[str] = mapped_column(String(32), index=True)
    # No foreign key: the log outlives the class, and a number is all it needs.
    class_id: Mapped[int | None] = mapped_column(Integer)
    count: Mapped[int] = mapped_column(Integer, default=0)
    detail: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)

    @property
    def description(self) -> str:
        return ACTIONS.get(self.action, self.action)


def record_event(action: str, teacher: Any = None, *, count: int = 0, class_id: int | None = None,
                 detail: dict[str, Any] | None = None, commit: bool = True) -> AuditEvent:
    """Log `action` by `teacher` (a storage.Teacher, or None for the command line)."""
    if action not in ACTIONS:
        raise ValueError(f"unknown audit action {action!r}")
    event = AuditEvent(
        teacher_id=getattr(teacher, "id", None), actor=getattr(teacher, "email", None) or COMMAND_LINE,
        action=action, class_id=class_id, count=int(count), detail=dict(detail or {}),
    )
    db.session.add(event)
    if commit:
        db.session.commit()
    return event


def recent_events(limit: int = 200) -> list[AuditEvent]:
    """The latest logged actions, newest first (for the admin page)."""
    return list(db.session.scalars(select(AuditEvent).order_by(AuditEvent.id.desc()).limit(limit)).all())
