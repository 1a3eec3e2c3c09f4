"""Signing in and out of the console, and the dashboard it opens on."""
from __future__ import annotations

from flask import Response, current_app, g, redirect, request, url_for

from ringly.admin import users
from ringly.console import overview, security
from ringly.console.blueprint import bp, page
from ringly.errors import LimitExceeded, Unauthorized
from ringly.voice.tts import audio_library


@bp.route("/sign-in", methods=["GET", "POST"])
def sign_in() -> Response:
    next_path = security.safe_next(request.values.get("next"))
    if request.method == "GET":
        if g.admin_user is not None:
            return redirect(next_path)
        return page("sign_in.html", next_path=next_path, email="", errors={})
    email = request.form.get("email", "")
    try:
        signed_in = users.sign_in(email, request.form.get("password", ""),
                                  request.remote_addr or "unknown")
    except LimitExceeded as error:
        response = page("sign_in.html", status=429, next_path=next_path, email=email,
                        errors={"form": "Too many failed sign-ins. Wait "
                                f"{_minutes(error.extra['retry_after'])} and try again."})
        response.headers["Retry-After"] = str(error.extra["retry_after"])
        return response
    except Unauthorized:
        return page("sign_in.html", status=401, next_path=next_path, email=email,
                    errors={"form": "The email or the password is wrong."})
    response = redirect(next_path)
    security.set_session_cookie(response, signed_in.token, signed_in.expires_at)
    return response


def _minutes(seconds: int) -> str:
    minutes = max(1, round(seconds / 60))
    return "a minute" if minutes == 1 else f"{minutes} minutes"


@bp.post("/sign-out")
def sign_out() -> Response:
    users.sign_out(request.cookies.get(security.SESSION_COOKIE))
    response = redirect(url_for("console.sign_in", signed_out=1))
    security.clear_session_cookie(response)
    return response


@bp.get("/")
def dashboard() -> Response:
    today = overview.dashboard(current_app.config["DEFAULT_TIMEZONE"])
    return page("dashboard.html", today=today, breaker=audio_library().breaker_state())
