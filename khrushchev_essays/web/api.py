"""The JSON API: POST an essay, get its score report back. Nothing is stored.

    curl -s http://127.0.0.1:5000/api/v1/score -H 'Content-Type: application/json' \\
         -d '{"question": "q1", "text": "..."}'

Errors are JSON too: {"status": "error", "error": "<what is wrong>"} with status 400 (bad input),
404, 405, 413 (body too large) or 429 (too many requests from this address: wait for the
number of seconds in the Retry-After header).
"""

from __future__ import annotations

from flask import Blueprint, current_app, jsonify, request

from ..scoring import InputError, check_text, score
from ..sources import marking_index
from .limits import api_limit
from .views import rubrics

bp = Blueprint("api", __name__, url_prefix="/api/v1")


def error(message: str, status: int):
    """A JSON error in the report's own shape (status "error" and a message)."""
    return jsonify({"status": "error", "error": message}), status


@bp.post("/score")
@api_limit
def score_essay():
    """Score `{"question": "q1", "text": "..."}` and return the report (see the README's contract)."""
    body = request.get_json(silent=True)
    if body is None:
        return error('The body must be JSON, such as {"question": "q1", "text": "..."}, sent as application/json.', 400)
    if not isinstance(body, dict):
        return error("The JSON body must be an object with \"question\" and \"text\".", 400)
    known = rubrics()
    qid = body.get("question")
    if not isinstance(qid, str) or qid not in known:
        return error(f"\"question\" must be one of: {', '.join(known)}.", 400)
    text = body.get("text")
    if not isinstance(text, str):
        return error("\"text\" must be a string holding the essay.", 400)
    try:
        check_text(text)
    except InputError as exc:
        return error(str(exc), 400)
    report = score(text, known[qid], source=str(body.get("source") or "api")[:200],
                   sources=marking_index(current_app.instance_path))
    if report.status != "scored":
        return jsonify(report.to_dict()), 400
    return jsonify(report.to_dict())
