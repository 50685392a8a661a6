"""Response headers that keep students' essays and feedback links safe.

The Content Security Policy allows scripts and styles from this site only (no inline code, no
CDN), so even if an essay's text escaped its escaping it could not run. Feedback pages carry a
private token in their URL: they are never cached, indexed or leaked through the Referer header
to another site. Within the site the Referer is sent: over HTTPS, Flask-WTF refuses a form post
without one from this site (WTF_CSRF_SSL_STRICT), so "no-referrer" made every essay and sign-in
behind an HTTPS proxy a 400.
"""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit

from flask import Flask, Response, redirect, request

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
    "Referrer-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), interest-cohort=()",
    "Cross-Origin-Opener-Policy": "same-origin",
}


def relative_location(response: Response) -> Response:
    """Make a redirect to this site relative, so the client's Host header is never sent back.

    Werkzeug builds some redirects (a missing trailing slash) as absolute URLs from the Host
    header: `Host: evil.example` came back as `Location: http://evil.example/teacher/`, which a
    poisoned cache or a proxy would hand to others. A relative Location means the same page to
    the browser and names no host at all.
    """
    location = response.headers.get("Location")
    if location and "//" in location:
        parts = urlsplit(location)
        if parts.scheme in ("http", "https") and parts.netloc == request.host:
            relative = urlunsplit(("", "", parts.path or "/", parts.query, parts.fragment))
            response.headers["Location"] = relative
            if not response.direct_passthrough and location.encode() in response.get_data():
                # The "Redirecting..." page names the target too.
                response.set_data(redirect(relative, response.status_code).get_data())
    return response


def add_security_headers(response: Response) -> Response:
    """Set the security headers on every response, and no-store on anything private."""
    relative_location(response)
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
