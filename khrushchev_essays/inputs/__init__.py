"""Essays in: reading files, folders, standard input, a class's CSV/TSV or JSONL, and Word .docx
files (zip archives, checked against unpacking bombs), decoded as UTF-8 or BOM-marked UTF-16/32.

Readers turn each path into an ordered stream of `Item`s: an essay to score, or an input error
(missing, empty, binary, not UTF-8, too large, a malformed CSV row or JSONL line...). A bad input
never stops a batch: it becomes an Item whose `error` is a message a teacher can act on.
Nothing here imports spaCy, the engine or a web library.

    from khrushchev_essays.inputs import iter_items
    for item in iter_items(["essays/", "class.csv"]):
        print(item.source, item.error or len(item.text))
"""

from .files import UTF8_HELP, decode_text, read_bytes, read_text_file
from .items import (
    AUTO,
    CLASS_KEYS,
    DEFAULT_QUESTIONS,
    FOLDER_SUFFIXES,
    ID_KEYS,
    MAX_DOCX_BYTES,
    MAX_DOCX_INFLATED,
    MAX_DOCX_MEMBERS,
    MAX_DOCX_XML_INFLATED,
    MAX_TABLE_BYTES,
    MAX_TEXT_BYTES,
    QUESTION_KEYS,
    STUDENT_KEYS,
    STUDENT_NAME_MAX,
    TABLE_SUFFIXES,
    TEXT_KEYS,
    TEXT_SUFFIXES,
    Item,
    ReadError,
)
from .names import clean_name, name_problem
from .paths import iter_items, read_data, read_path, size_limit
from .tables import normalise_question, parse_csv, parse_jsonl
from .word import check_docx_archive, docx_text, read_docx

__all__ = [
    "AUTO",
    "CLASS_KEYS",
    "DEFAULT_QUESTIONS",
    "FOLDER_SUFFIXES",
    "ID_KEYS",
    "MAX_DOCX_BYTES",
    "MAX_DOCX_INFLATED",
    "MAX_DOCX_MEMBERS",
    "MAX_DOCX_XML_INFLATED",
    "MAX_TABLE_BYTES",
    "MAX_TEXT_BYTES",
    "QUESTION_KEYS",
    "STUDENT_KEYS",
    "STUDENT_NAME_MAX",
    "TABLE_SUFFIXES",
    "TEXT_KEYS",
    "TEXT_SUFFIXES",
    "UTF8_HELP",
    "Item",
    "ReadError",
    "check_docx_archive",
    "clean_name",
    "decode_text",
    "docx_text",
    "iter_items",
    "name_problem",
    "normalise_question",
    "parse_csv",
    "parse_jsonl",
    "read_bytes",
    "read_data",
    "read_docx",
    "read_path",
    "read_text_file",
    "size_limit",
]
