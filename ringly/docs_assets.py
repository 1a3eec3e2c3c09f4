"""Swagger UI's files served by the app itself, so /api/docs works with no internet."""
from __future__ import annotations

from flask import Blueprint, Flask, send_from_directory
from swagger_ui_bundle import swagger_ui_path

bp = Blueprint("docs_assets", __name__)


@bp.get("/api/docs/assets/<path:filename>")
def swagger_ui_asset(filename: str):
    # send_from_directory refuses paths that leave the folder.
    response = send_from_directory(str(swagger_ui_path), filename, max_age=86400)
    return response


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
