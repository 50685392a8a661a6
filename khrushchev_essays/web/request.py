"""How the site reads what a client sends: form bodies, JSON bodies and ids in URLs.

Each of these used to turn a malformed request into a 500 (or an empty form):
- Werkzeug decodes an urlencoded body as strict UTF-8 and, on one invalid byte, drops every
  field: the student's essay vanished and the CSRF check failed. Here invalid bytes become
  U+FFFD and every field is kept.
- A deeply nested JSON body makes `json.loads` raise RecursionError, which `get_json(silent=True)`
  does not catch. Here it is a ValueError like any other malformed JSON, so the API answers 400.
- `<int:...>` in a route accepts any number of digits, and SQLite cannot bind an integer of
  2**63 or more (OverflowError). Here such a URL matches nothing: a 404.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl

from flask import Flask, Request
from flask.json.provider import DefaultJSONProvider
from werkzeug.formparser import FormDataParser
from werkzeug.routing import IntegerConverter

from ..storage.db import MAX_INTEGER


class LenientFormDataParser(FormDataParser):
    """Urlencoded bodies decoded as UTF-8 with replacement, instead of all-or-nothing."""

    def _parse_urlencoded(self, stream, mimetype, content_length, options):  # type: ignore[override]
        # The body is already capped by max_content_length (see errors.py for the 413).
        items = parse_qsl(stream.read().decode("utf-8", "replace"), keep_blank_values=True, errors="replace")
        return stream, self.cls(items), self.cls()


class SiteRequest(Request):
    """The request class for the whole site (the teacher side extends it for uploads)."""

    form_data_parser_class = LenientFormDataParser


class SafeJSONProvider(DefaultJSONProvider):
    """Flask's JSON, with a body nested too deeply for the parser reported as malformed JSON."""

    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        try:
            return super().loads(s, **kwargs)
        except RecursionError:
            raise ValueError("the JSON is nested too deeply") from None


class IdConverter(IntegerConverter):
    """`<int:...>` limited to what a database id column holds (a signed 64-bit integer)."""

    def __init__(self, map, *args: Any, **kwargs: Any) -> None:  # noqa: A002 - werkzeug's name
        kwargs.setdefault("max", MAX_INTEGER)
        super().__init__(map, *args, **kwargs)


def init_app(app: Flask) -> None:
    """Install the request class, the JSON provider and the bounded `int` converter (before any routes)."""
    app.request_class = SiteRequest
    app.json_provider_class = SafeJSONProvider
    app.json = SafeJSONProvider(app)
    app.url_map.converters["int"] = IdConverter
