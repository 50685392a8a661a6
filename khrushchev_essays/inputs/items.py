"""What a reader yields: an `Item` (an essay, or an input that could not be read), the limits on
what is read, and the names of the columns a class's CSV or JSONL file may use."""

from __future__ import annotations

from dataclasses import dataclass

# A single essay is at most 60,000 characters (engine.MAX_CHARS), so a text file far larger is
# refused from its size alone, before reading it whole. A .docx also carries styles and images;
# CSV and JSONL files hold a whole class.
MAX_TEXT_BYTES = 2 * 1024 * 1024
MAX_DOCX_BYTES = 20 * 1024 * 1024
MAX_TABLE_BYTES = 200 * 1024 * 1024
# A .docx is a zip archive, and a small one can unpack to gigabytes (a "zip bomb"). Before
# python-docx inflates anything, the archive's directory must list at most this many parts and
# sizes within these limits, and the parts are then unpacked in chunks that stop at the limit
# (so a directory that lies about sizes is caught too). The XML is what lxml parses, at about
# ten times its size in memory; an essay's document.xml is rarely over 2 MB. Images count only
# towards the overall limit.
MAX_DOCX_MEMBERS = 1000
MAX_DOCX_INFLATED = 40 * 1024 * 1024
MAX_DOCX_XML_INFLATED = 10 * 1024 * 1024

TEXT_SUFFIXES = (".txt", ".md")
TABLE_SUFFIXES = (".csv", ".tsv", ".jsonl")  # many essays to a file
FOLDER_SUFFIXES = (*TEXT_SUFFIXES, ".docx", *TABLE_SUFFIXES)
DEFAULT_QUESTIONS = ("q1", "q2")
AUTO = "auto"

# Column (and JSON key) names accepted for each field, most specific first.
ID_KEYS = ("id", "student", "name", "source")
QUESTION_KEYS = ("question", "question_id", "q")
TEXT_KEYS = ("text", "essay", "answer")
# Optional columns kept with the essay when it is stored (grade --store, a teacher's upload).
STUDENT_KEYS = ("student", "student_name", "name")
CLASS_KEYS = ("class_code", "class")
STUDENT_NAME_MAX = 80  # as the essay form takes it


@dataclass(frozen=True, slots=True)
class Item:
    """One input: an essay to score (`text`), or an input that could not be read (`error`)."""

    source: str
    question: str | None = None  # from the row itself; None means "use the batch's --question"
    text: str | None = None
    error: str | None = None
    student: str | None = None  # a CSV/JSONL row's student or name column, for storing
    class_code: str | None = None  # a row's class_code or class column


class ReadError(ValueError):
    """An input cannot be read as text; the message says why, for a person."""



__all__ = [
    "AUTO", "CLASS_KEYS", "DEFAULT_QUESTIONS", "FOLDER_SUFFIXES", "ID_KEYS", "MAX_DOCX_BYTES", "MAX_DOCX_INFLATED",
    "MAX_DOCX_MEMBERS", "MAX_DOCX_XML_INFLATED", "MAX_TABLE_BYTES", "MAX_TEXT_BYTES", "QUESTION_KEYS", "STUDENT_KEYS",
    "STUDENT_NAME_MAX", "TABLE_SUFFIXES", "TEXT_KEYS", "TEXT_SUFFIXES", "Item", "ReadError",
]
