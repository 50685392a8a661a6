"""Classes: a name, the teachers who teach it, and the join code students type on the essay form.

Join codes are made by the app, never chosen: six characters from an alphabet without the
look-alikes a student copies wrong from a projected slide (0/O, 1/I/L, 2/Z, 5/S, 8/B), so a code
reads the same on a whiteboard, a slide and a phone. A code can be regenerated (a code posted
somewhere public), after which the old one no longer joins; essays already in the class stay.

Essays stored before classes existed keep the free-text code they were typed with
(`submissions.class_code`) and no class; an admin can attach all essays of such a code to a class.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import CheckConstraint, Column, ForeignKey, Integer, String, Table, func, select, update
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..inputs import clean_name
from .db import UTCDateTime, db, utcnow
from .models import Submission
from .teachers import Teacher

CODE_ALPHABET = "ACDEFGHJKMNPQRTUVWXY34679"
CODE_LENGTH = 6
NAME_MAX = 80
_SEPARATORS = re.compile(r"[\s_-]+")
# When a class's students see their feedback: at once (the mark as soon as the essay is marked), or
# held until a teacher has reviewed it and released the class's reviewed essays (storage.release).
RELEASE_MODES = ("immediate", "after_review")

class_teachers = Table(
    "class_teachers", db.metadata,
    Column("class_id", ForeignKey("classes.id", ondelete="CASCADE"), primary_key=True),
    Column("teacher_id", ForeignKey("teachers.id", ondelete="CASCADE"), primary_key=True, index=True),
)


class ClassError(ValueError):
    """A class cannot be created or changed; the message says why, for a person."""


class SchoolClass(db.Model):  # type: ignore[name-defined,misc]
    """A teaching group: its name (unique only per teacher's view, not globally), teachers and join code."""

    __tablename__ = "classes"
    __table_args__ = (CheckConstraint("release_mode IN ('immediate', 'after_review')", name="release_mode_known"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(NAME_MAX))
    join_code: Mapped[str] = mapped_column(String(16), unique=True, index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    release_mode: Mapped[str] = mapped_column(String(16), default="immediate", server_default="immediate")

    teachers: Mapped[list[Teacher]] = relationship(secondary=class_teachers, lazy="selectin", order_by=Teacher.email,
                                                   backref="classes")

    @property
    def label(self) -> str:
        """The name with the code, as menus show it: "12C History (KXR7DM)"."""
        return f"{self.name} ({self.join_code})"

    @property
    def holds_feedback(self) -> bool:
        """Whether students wait for a teacher to release their feedback."""
        return self.release_mode == "after_review"

    @property
    def spaced_code(self) -> str:
        """The code in two halves for a slide: "KXR 7DM" (typed either way)."""
        return f"{self.join_code[:3]} {self.join_code[3:]}"

    def __repr__(self) -> str:
        return f"<SchoolClass {self.id} {self.name!r} {self.join_code}>"


def normalise_code(code: str | None) -> str:
    """A code as typed ("kxr 7dm", "KXR-7DM") in its stored form ("KXR7DM")."""
    return _SEPARATORS.sub("", (code or "").strip()).upper()


def new_join_code() -> str:
    """A fresh code that no class has (random; retried on the rare collision)."""
    for _ in range(100):
        code = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
        if db.session.scalar(select(SchoolClass.id).where(SchoolClass.join_code == code)) is None:
            return code
    raise ClassError("could not find an unused join code; try again")  # 25**6 codes: practically never


def _clean_name(name: str) -> str:
    # As every name the site stores (batch.clean_name): no control characters (a NUL would reach
    # the query) and no bidi overrides or other invisible characters that make a name display as
    # something else, spaces collapsed.
    name = clean_name(name or "")
    if not name:
        raise ClassError("give the class a name")
    if len(name) > NAME_MAX:
        raise ClassError(f"a class name is at most {NAME_MAX} characters")
    return name


def create_class(name: str, teachers: Iterable[Teacher]) -> SchoolClass:
    """A new class with a generated join code, taught by `teachers` (at least one)."""
    teachers = list(dict.fromkeys(teachers))
    if not teachers:
        raise ClassError("a class needs at least one teacher")
    klass = SchoolClass(name=_clean_name(name), join_code=new_join_code(), teachers=teachers)
    db.session.add(klass)
    db.session.commit()
    return klass


def rename_class(klass: SchoolClass, name: str) -> None:
    """Give `klass` a new name (its code and essays stay)."""
    klass.name = _clean_name(name)
    db.session.commit()


def regenerate_code(klass: SchoolClass) -> str:
    """A new join code for `klass`; the old one stops working at once. Returns the new code."""
    klass.join_code = new_join_code()
    db.session.commit()
    return klass.join_code


def add_teacher_to_class(klass: SchoolClass, teacher: Teacher) -> None:
    """Let `teacher` teach `klass` as well (no-op if they already do)."""
    if teacher not in klass.teachers:
        klass.teachers.append(teacher)
    db.session.commit()


def class_by_code(code: str | None) -> SchoolClass | None:
    """The class whose join code this is (any case, spaces or hyphens), or None."""
    code = normalise_code(code)
    if not code:
        return None
    return db.session.scalar(select(SchoolClass).where(SchoolClass.join_code == code))


def all_classes() -> list[SchoolClass]:
    """Every class, by name (for admins and `classes list`)."""
    return list(db.session.scalars(select(SchoolClass).order_by(func.lower(SchoolClass.name), SchoolClass.id)).all())


def legacy_codes() -> list[tuple[str, int]]:
    """Free-text class codes of essays that belong to no class, with how many essays each (for admins)."""
    rows = db.session.execute(
        select(Submission.class_code, func.count()).where(Submission.class_id.is_(None), Submission.class_code.is_not(None))
        .group_by(Submission.class_code).order_by(Submission.class_code)
    )
    return [(code, int(n)) for code, n in rows]


def attach_legacy_code(code: str, klass: SchoolClass) -> int:
    """Put every class-less essay stored with the free-text `code` into `klass`; how many moved."""
    result = db.session.execute(
        update(Submission).where(Submission.class_id.is_(None), Submission.class_code == code)
        .values(class_id=klass.id).execution_options(synchronize_session=False)
    )
    db.session.commit()
    return int(result.rowcount or 0)
