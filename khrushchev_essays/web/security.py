"""Response headers that keep students' essays and feedback links safe.

The Content Security Policy allows scripts and styles from this site only (no inline code, no
CDN), so even if an essay's text escaped its escaping it could not run. Feedback pages carry a
private token in their URL: they are never cached, indexed or leaked through the Referer header.
"""

from __future__ import annotations

from flask import Flask, Response, request

CSP = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)

HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), interest-cohort=()",
    "Cross-Origin-Opener-Policy": "same-origin",
}


def add_security_headers(response: Response) -> Response:
    """Set the security headers on every response, and no-store on anything private."""
    for name, value in HEADERS.items():
        response.headers.setdefault(name, value)
    if _is_private():
        response.headers["Cache-Control"] = "no-store"
        response.headers.setdefault("X-Robots-Tag", "noindex")
    if request.is_secure:
        response.headers.setdefault("Strict-Transport-Security", "max-age=31536000")
    return response


def _is_private() -> bool:
    """Whether the response may hold a student's essay, name or feedback link.

    Anything addressed by a token, any answer to a form post, and the API are private. The public
    question pages stay cacheable so the browser's Back button keeps a half-written essay.
    """
    if request.method not in ("GET", "HEAD") or request.blueprint == "api":
        return True
    return bool(request.view_args and "token" in request.view_args)


def init_app(app: Flask) -> None:
    """Install the header hook."""
    app.after_request(add_security_headers)
