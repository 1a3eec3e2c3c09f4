"""Log lines without callers' full numbers or Ringly's secrets, whichever logger writes them.

Every record is cleaned where it is made (a log record factory), so it holds in the web
processes, in Celery workers (which replace the root logger's handlers) and in tests alike, and
no call site has to remember a helper. Phone numbers keep their last four digits, unless
LOG_LEVEL is DEBUG; the configured secrets and API keys are never shown.
"""
from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from typing import Any

# An E.164 number ("+13125550142"), also URL-encoded ("%2B13125550142") or as a SIP user.
_PHONE = re.compile(r"(?:\+|%2[Bb])\d{4,11}(\d{4})(?!\d)")
_API_KEY = re.compile(r"\brk_[A-Za-z0-9_\-]{8,}")
MAX_SECRETS = 32


class _Settings:
    mask_numbers = True
    secrets: tuple[str, ...] = ()


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
    if cleaned != message:
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
