"""The operator's web console at /admin: server-rendered pages over the domains' own services.

It sits above every domain package (it imports them; none imports it). Every action calls the
same service as the API route that does it, so it is checked, recorded and audited the same way,
with the signed-in admin as the actor.
"""
from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    from ringly.console import activity, clients, numbers, provision, signin  # noqa: F401  (routes)
    from ringly.console.blueprint import bp

    app.register_blueprint(bp)
