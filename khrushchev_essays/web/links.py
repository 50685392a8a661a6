"""A student's feedback link as an absolute address, for the export and the printed class pack.

The link is the student's key to their page (a token, never derived from the id): it is handed
only to the teacher of the student's class, in what that teacher exports or prints.
"""

from __future__ import annotations

import segno
from flask import current_app, request, url_for
from markupsafe import Markup

from ..storage import Submission


def feedback_link(sub: Submission) -> str:
    """The feedback page's absolute URL: under PUBLIC_URL when it is set, else the request's own address."""
    base = current_app.config.get("PUBLIC_URL")
    if not base:
        return url_for("practice.feedback", token=sub.token, _external=True)
    path = url_for("practice.feedback", token=sub.token)
    root = request.script_root if request else ""
    return base + (path[len(root):] if root and path.startswith(root) else path)


def qr_svg(text: str, label: str) -> Markup:
    """A QR code of `text` as inline SVG (segno): no style attributes, so the CSP's style-src holds;
    role="img" with `label` for screen readers (the link is printed beside it as text too)."""
    qr = segno.make(text, error="m")
    svg = qr.svg_inline(scale=4, border=2, svgclass="qr", lineclass="qr-line", omitsize=True)
    # segno writes <svg ... class="qr" viewBox=...>: give it a role and a name.
    return Markup(svg.replace("<svg ", f'<svg role="img" aria-label="{Markup.escape(label)}" ', 1))
