"""Who may see which submissions: the one place every teacher page's queries are scoped.

A `Scope` is built from the signed-in account. An admin's scope is everything (including essays
with no class: independent practice, and essays from before classes existed); a teacher's is the
submissions of the classes they teach. Every query of the teacher side takes a Scope as a
required argument (storage.queries, calibration_runs, privacy), so a new page cannot forget it,
and `get()` returns None for a submission outside the scope, which the pages turn into a 404:
a teacher cannot even learn that another class's essay exists.

Plain SQL expressions (IN over a subquery, no dialect functions), so the same scoping runs on
SQLite and PostgreSQL.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Select, func, select, true

from .classes import SchoolClass, class_teachers, normalise_code
from .db import db
from .models import Submission


@dataclass(frozen=True, slots=True)
class Scope:
    """The submissions an account may see: every one (`admin`), or those of `teacher_id`'s classes."""

    teacher_id: int | None
    admin: bool = False

    @classmethod
    def of(cls, teacher: Any) -> Scope:
        """The scope of a storage.Teacher (an admin sees everything)."""
        return cls(teacher_id=teacher.id, admin=bool(teacher.is_admin))

    @classmethod
    def everything(cls) -> Scope:
        """No restriction: the command line, run by whoever runs the site."""
        return cls(teacher_id=None, admin=True)

    @classmethod
    def nothing(cls) -> Scope:
        """No submissions and no classes (a visitor who is not signed in)."""
        return cls(teacher_id=None, admin=False)

    def class_ids(self) -> Select:
        """SELECT the ids of the classes this scope covers."""
        if self.admin:
            return select(SchoolClass.id)
        return select(class_teachers.c.class_id).where(class_teachers.c.teacher_id == self.teacher_id)

    def condition(self) -> ColumnElement[bool]:
        """A WHERE condition on Submission that keeps only what this scope may see."""
        if self.admin:
            return true()
        return Submission.class_id.in_(self.class_ids())

    def submissions(self) -> Select:
        """SELECT Submission, scoped."""
        return select(Submission).where(self.condition())

    def get(self, sub_id: int) -> Submission | None:
        """The submission with this id if this scope may see it, else None (whether or not it exists)."""
        return db.session.scalar(self.submissions().where(Submission.id == sub_id))

    def count(self) -> int:
        """How many submissions this scope sees."""
        return db.session.scalar(select(func.count()).select_from(self.submissions().subquery())) or 0

    def classes(self) -> list[SchoolClass]:
        """The classes this scope covers, by name."""
        return list(db.session.scalars(
            select(SchoolClass).where(SchoolClass.id.in_(self.class_ids()))
            .order_by(func.lower(SchoolClass.name), SchoolClass.id)
        ).all())

    def get_class(self, class_id: int) -> SchoolClass | None:
        """The class with this id if this scope covers it, else None."""
        return db.session.scalar(
            select(SchoolClass).where(SchoolClass.id == class_id, SchoolClass.id.in_(self.class_ids()))
        )

    def class_by_code(self, code: str | None) -> SchoolClass | None:
        """The class of this scope whose join code `code` is (as typed), else None."""
        code = normalise_code(code)
        if not code:
            return None
        return db.session.scalar(
            select(SchoolClass).where(SchoolClass.join_code == code, SchoolClass.id.in_(self.class_ids()))
        )
