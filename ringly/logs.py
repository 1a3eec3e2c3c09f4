"""Log lines without callers' full numbers or Ringly's secrets, whichever logger writes them.

Every record is cleaned where it is made (a log record factory), so it holds in the web
processes, in Celery workers (which replace the root logger's handlers) and in tests alike, and
no call site has to remember a helper. Phone numbers keep their last four digits, unless
LOG_LEVEL is DEBUG; the configured secrets and API keys are never shown.
"""
from __future__ import annotations

import logging
import os
import re
import time
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from types import MappingProxyType
from typing import Any

from celery.signals import after_setup_logger, after_setup_task_logger
from flask import Flask, Response, g, request, request_started
from pythonjsonlogger import core as jsonlogger_core
from pythonjsonlogger import json as jsonlogger

# An E.164 number ("+13125550142"), also URL-encoded ("%2B13125550142") or as a SIP user.
_PHONE = re.compile(r"(?:\+|%2[Bb])\d{4,11}(\d{4})(?!\d)")
_API_KEY = re.compile(r"\brk_[A-Za-z0-9_\-]{8,}")
MAX_SECRETS = 32


class _Settings:
    mask_numbers = True
    secrets: tuple[str, ...] = ()
    log_format = "text"


_settings = _Settings()


def clean(text: str) -> str:
    """`text` without secrets, API keys and (unless at DEBUG) callers' full numbers."""
    for secret in _settings.secrets:
        if secret in text:
            text = text.replace(secret, "[secret]")
    if "rk_" in text:
        text = _API_KEY.sub("rk_[secret]", text)
    if _settings.mask_numbers and ("+" in text or "%2" in text):
        text = _PHONE.sub(lambda match: f"…{match.group(1)}", text)
    return text


def _clean_record(record: logging.LogRecord) -> None:
    try:
        message = record.getMessage()
    except Exception:  # a broken format: logging reports it itself when the record is emitted
        return
    cleaned = clean(message)
    if cleaned != message or record.args:
        # Formatted once, here: the handler's formatter would format the arguments again (the
        # access log's, every request).
        record.msg, record.args = cleaned, ()
    if record.exc_info and not record.exc_text:
        # Exception texts carry values too (a driver's "Key (phone)=(+1…)").
        trace = logging.Formatter().formatException(record.exc_info)
        cleaned = clean(trace)
        if cleaned != trace:
            record.exc_text = cleaned


def configure(level: str, secrets: Iterable[str | None] = ()) -> None:
    """Install the cleaning (once per process) and set what it hides.

    Secrets accumulate: a process that built apps with several tokens (tests) hides them all."""
    _settings.mask_numbers = logging.getLevelName(level) != logging.DEBUG
    known = set(_settings.secrets)
    # Short values would blank out ordinary words; real tokens and keys are long.
    _settings.secrets = tuple(sorted(
        known | {secret for secret in secrets if secret and len(secret) >= 8},
        key=len, reverse=True))[:MAX_SECRETS]
    factory = logging.getLogRecordFactory()
    if getattr(factory, "ringly_cleans", False):
        return

    def make_record(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = factory(*args, **kwargs)
        _clean_record(record)
        return record

    make_record.ringly_cleans = True  # type: ignore[attr-defined]
    logging.setLogRecordFactory(make_record)


# -- the fields every line carries, and the JSON format ----------------------------------------
# A request or a task binds what its lines are about (request id, job, call, client) in a context
# variable; only the JSON formatter reads it, when it writes a line, so logging costs no more
# where a record is made, and text lines stay as they were.

REQUEST_ID_HEADER = "X-Request-Id"
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
# A caller's request id is kept only when it is a plain token (no spaces, quotes or newlines to
# forge log lines with) of a sane length; anything else gets a new id.
_REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{1,128}")
_TWILIO_SID = re.compile(r"[A-Z]{2}[0-9a-fA-F]{32}")
_NOTHING_BOUND: Mapping[str, Any] = MappingProxyType({})
_bound: ContextVar[Mapping[str, Any]] = ContextVar("ringly_log_fields", default=_NOTHING_BOUND)


def bind(**fields: Any) -> None:
    """Add `fields` (those not None) to every line logged until the current request or task
    ends (or, outside both, until the process does)."""
    _bound.set({**_bound.get(), **{name: value for name, value in fields.items()
                                   if value is not None}})


def bound_fields() -> Mapping[str, Any]:
    """What the lines logged here and now carry."""
    return _bound.get()


@contextmanager
def log_context(**fields: Any) -> Iterator[None]:
    """Lines logged inside carry `fields` (and what is bound inside), and only those; what was
    bound before is back afterwards."""
    token = _bound.set({name: value for name, value in fields.items() if value is not None})
    try:
        yield
    finally:
        _bound.reset(token)


def request_id_from(header: str | None) -> str:
    """The caller's request id when it is a plain token, else a new one."""
    if header and _REQUEST_ID.fullmatch(header):
        return header
    return _new_request_id()


def _new_request_id() -> str:
    """`uuid.uuid4().hex`, without building a UUID object on every request."""
    raw = bytearray(os.urandom(16))
    raw[6] = (raw[6] & 0x0F) | 0x40  # version 4
    raw[8] = (raw[8] & 0x3F) | 0x80  # the RFC 4122 variant
    return raw.hex()


class JsonFormatter(jsonlogger.JsonFormatter):
    """One JSON object a line: `time` (UTC), `level`, `logger`, `message`, then the bound fields
    and any `extra`. The record factory has already cleaned the message; a traceback is cleaned
    here as well, since this formatter writes it from the exception itself."""

    converter = time.gmtime
    default_time_format = "%Y-%m-%dT%H:%M:%S"
    default_msec_format = "%s.%03dZ"

    def __init__(self) -> None:
        super().__init__(
            "%(asctime)s %(levelname)s %(name)s %(message)s",
            rename_fields={"asctime": "time", "levelname": "level", "name": "logger"},
            # Celery repeats each task line's values, unmasked, in a `data` attribute.
            reserved_attrs=[*jsonlogger_core.RESERVED_ATTRS, "data"],
        )

    def add_fields(self, log_data: dict[str, Any], record: logging.LogRecord,
                   message_dict: dict[str, Any]) -> None:
        super().add_fields(log_data, record, message_dict)
        for name, value in _bound.get().items():
            log_data.setdefault(name, value)

    def formatException(self, ei: Any) -> str:  # noqa: N802 (logging's name)
        return clean(super().formatException(ei))


def formatter(log_format: str) -> logging.Formatter:
    """The formatter of LOG_FORMAT (`json` or `text`)."""
    return JsonFormatter() if log_format == "json" else logging.Formatter(TEXT_FORMAT)


def use_format(log_format: str) -> None:
    """Make Celery's handlers (the worker's and beat's, which replace the root logger's) write
    LOG_FORMAT too; `text` keeps Celery's own readable lines."""
    _settings.log_format = log_format
    for signal in (after_setup_logger, after_setup_task_logger):
        signal.connect(_format_celery_handlers, weak=False,
                       dispatch_uid=f"ringly.logs.{signal.name}")


def _format_celery_handlers(logger: logging.Logger | None = None, **_signal: Any) -> None:
    if logger is None or _settings.log_format != "json":
        return
    for handler in logger.handlers:
        handler.setFormatter(JsonFormatter())


def _bind_request() -> None:
    bind(request_id=request_id_from(request.environ.get("HTTP_X_REQUEST_ID")))


def _bind_webhook_sids() -> None:
    # Twilio's webhooks are forms; the view reads the same parsed form right after. The
    # Content-Type is compared as request.mimetype would be, without parsing it into a mimetype
    # and options first.
    if request.method != "POST" or request.environ.get("CONTENT_TYPE", "").partition(";")[0] \
            .strip().lower() != "application/x-www-form-urlencoded":
        return
    call_sid, message_sid = request.form.get("CallSid"), request.form.get("MessageSid")
    bind(call_sid=call_sid if call_sid and _TWILIO_SID.fullmatch(call_sid) else None,
         message_sid=message_sid if message_sid and _TWILIO_SID.fullmatch(message_sid) else None)


def _echo_request_id(response: Response) -> Response:
    request_id = _bound.get().get("request_id")
    if request_id:
        response.headers[REQUEST_ID_HEADER] = request_id
    return response


def init_app(app: Flask) -> None:
    """Each request's lines carry its request id (the caller's X-Request-Id when sane, else a
    new one, answered in the same header) and, for Twilio's webhooks, the CallSid."""

    def start(sender: Flask, **_extra: Any) -> None:
        # request_started comes before every before_request hook: their lines carry the id too.
        g.ringly_log_token = _bound.set(_NOTHING_BOUND)
        _bind_request()

    def end(_error: BaseException | None) -> None:
        token = g.pop("ringly_log_token", None)
        if token is not None:
            _bound.reset(token)

    request_started.connect(start, app, weak=False)
    app.before_request(_bind_webhook_sids)
    app.after_request(_echo_request_id)
    app.teardown_request(end)
