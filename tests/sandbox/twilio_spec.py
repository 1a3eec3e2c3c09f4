"""Validate sandbox response bodies against Twilio's official OpenAPI 3.0 files with jsonschema."""

from __future__ import annotations

import json
import os
import re
from datetime import datetime
from email.utils import parsedate_to_datetime
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from jsonschema import Draft202012Validator, FormatChecker
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

# The descriptions the sandbox is checked against, by the name tests load them with.
SPEC_FILES = {
    "api_v2010": "twilio_api_v2010.json",  # https://api.twilio.com/2010-04-01/...
    "messaging_v1": "twilio_messaging_v1.json",  # https://messaging.twilio.com/v1/...
}
SPEC_HINT = (
    "Twilio's OpenAPI file is missing: put {file} (repo twilio/twilio-oai) in "
    "../shared/twilio-oai/ beside the repository, or set TWILIO_OAI_DIR to the folder holding "
    "it (TWILIO_OAI_SPEC to the 2010 API's file alone)."
)

# Documented corrections to the spec. Twilio's own examples and the live API send
# latitude/longitude as decimal strings ("19.720000") although the schema says number.
DECIMAL_STRING = {"type": ["number", "string", "null"], "pattern": r"^-?\d+(\.\d+)?$"}
SPEC_ERRATA = {
    "api_v2010": {
        f"api.v2010.account.available_phone_number_country.available_phone_number_{kind}": {
            "latitude": DECIMAL_STRING,
            "longitude": DECIMAL_STRING,
        }
        for kind in ("local", "toll_free", "mobile")
    }
}


def spec_path(name: str = "api_v2010") -> Path:
    override = os.environ.get("TWILIO_OAI_SPEC")
    if override and name == "api_v2010":
        return Path(override)
    folder = os.environ.get("TWILIO_OAI_DIR")
    root = Path(folder) if folder else (
        Path(__file__).resolve().parents[2] / ".." / "shared" / "twilio-oai"
    )
    return root / SPEC_FILES[name]


def _spec_uri(name: str) -> str:
    return f"urn:twilio-oai:{name}"


def _openapi_to_json_schema(node: Any, spec_uri: str) -> Any:
    """Translate OpenAPI 3.0 quirks: ``nullable`` becomes a null type, refs become absolute."""
    if isinstance(node, list):
        return [_openapi_to_json_schema(item, spec_uri) for item in node]
    if not isinstance(node, dict):
        return node
    out = {key: _openapi_to_json_schema(value, spec_uri) for key, value in node.items()}
    ref = out.get("$ref")
    if isinstance(ref, str) and ref.startswith("#/"):
        out["$ref"] = spec_uri + ref
    if out.pop("nullable", False) is True:
        if "type" in out:
            types = out["type"] if isinstance(out["type"], list) else [out["type"]]
            out["type"] = [*types, "null"]
            if "enum" in out:
                out["enum"] = [*out["enum"], None]
        elif "$ref" in out:
            out = {"anyOf": [{"$ref": out.pop("$ref")}, {"type": "null"}], **out}
    return out


def _rfc2822(value: str) -> bool:
    if not re.fullmatch(
        r"[A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} [+-]\d{4}", value
    ):
        return False
    parsedate_to_datetime(value)
    return True


def _uri(value: str) -> bool:
    # Twilio puts relative URIs ("/2010-04-01/...") and "" (unset webhook) in uri fields;
    # both are valid RFC 3986 URI-references. Absolute ones must be http(s) with a host.
    if value == "" or value.startswith("/"):
        return True
    parts = urlsplit(value)
    return parts.scheme in ("http", "https") and bool(parts.netloc)


def _iso8601(value: str) -> bool:
    # The newer APIs (Messaging v1) send "2015-07-30T20:12:31Z".
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})", value):
        return False
    datetime.fromisoformat(value.replace("Z", "+00:00"))
    return True


FORMAT_CHECKS = {
    "date-time-rfc-2822": _rfc2822,
    "date-time": _iso8601,
    "uri": _uri,
    "phone-number": lambda v: bool(
        re.fullmatch(r"\+[1-9]\d{1,14}", v) or re.fullmatch(r"\(\d{3}\) \d{3}-\d{4}", v)
    ),
    "currency": lambda v: bool(re.fullmatch(r"[A-Z]{3}", v)),
    "iso-country-code": lambda v: bool(re.fullmatch(r"[A-Z]{2}", v)),
    "http-method": lambda v: v in {"GET", "POST", "PUT", "DELETE", "PATCH", "HEAD"},
    "uri-map": lambda v: (
        isinstance(v, dict) and all(isinstance(u, str) and _uri(u) for u in v.values())
    ),
    "phone-number-capabilities": lambda v: (
        isinstance(v, dict)
        and set(v) <= {"voice", "sms", "mms", "fax"}
        and all(isinstance(flag, bool) for flag in v.values())
    ),
}


def _format_checker() -> FormatChecker:
    checker = FormatChecker(formats=())
    for name, check in FORMAT_CHECKS.items():

        def run(instance: Any, check=check) -> bool:
            return instance is None or check(instance)

        checker.checks(name, raises=(ValueError, TypeError))(run)
    return checker


class TwilioSpec:
    """The spec's 2xx response schemas, ready to validate bodies by method and path."""

    def __init__(self, document: dict[str, Any], name: str = "api_v2010") -> None:
        self.document = document
        self.uri = _spec_uri(name)
        schemas = document["components"]["schemas"]
        for schema_name, fixes in SPEC_ERRATA.get(name, {}).items():
            for prop, replacement in fixes.items():
                assert prop in schemas[schema_name]["properties"], (
                    f"erratum target {schema_name}.{prop} moved"
                )
                schemas[schema_name]["properties"][prop] = replacement
        self.translated = _openapi_to_json_schema(document, self.uri)
        resource = Resource.from_contents(self.translated, default_specification=DRAFT202012)
        self.registry = Registry().with_resource(self.uri, resource)
        self.format_checker = _format_checker()

    def response_schema(self, method: str, path: str) -> tuple[int, dict[str, Any] | None]:
        """(status, schema) of the operation's first 2xx response; schema None for 204."""
        operation = self.translated["paths"][path][method.lower()]
        status = min(int(code) for code in operation["responses"] if code.startswith("2"))
        content = operation["responses"][str(status)].get("content")
        return status, (content["application/json"]["schema"] if content else None)

    def formats_used(self, schema: Any, seen: set[str] | None = None) -> set[str]:
        seen = set() if seen is None else seen
        found: set[str] = set()
        if isinstance(schema, dict):
            if isinstance(schema.get("format"), str):
                found.add(schema["format"])
            ref = schema.get("$ref")
            if isinstance(ref, str) and ref.startswith(self.uri) and ref not in seen:
                seen.add(ref)
                name = ref.rsplit("/", 1)[-1]
                found |= self.formats_used(self.translated["components"]["schemas"][name], seen)
            for value in schema.values():
                found |= self.formats_used(value, seen)
        elif isinstance(schema, list):
            for item in schema:
                found |= self.formats_used(item, seen)
        return found

    def validate(self, method: str, path: str, status: int, body: str) -> None:
        """Assert ``body`` (raw text) is what the spec promises for this operation."""
        operation = self.translated["paths"][path][method.lower()]
        declared = sorted(int(code) for code in operation["responses"] if code.startswith("2"))
        # Most operations declare one 2xx; Messaging v1's create also declares a 200.
        assert status in declared, f"{method} {path}: status {status} not in {declared}"
        content = operation["responses"][str(status)].get("content")
        schema = content["application/json"]["schema"] if content else None
        if schema is None:
            assert body == "", f"{method} {path}: {status} must have no body"
            return
        unknown = self.formats_used(schema) - set(FORMAT_CHECKS)
        # Strict: an unchecked format would silently pass anything.
        assert not unknown, f"no checker for formats {unknown}"
        validator = Draft202012Validator(
            schema, registry=self.registry, format_checker=self.format_checker
        )
        errors = sorted(validator.iter_errors(json.loads(body)), key=lambda e: list(e.path))
        assert not errors, "\n".join(
            f"{method} {path} {list(e.absolute_path)}: {e.message}" for e in errors[:10]
        )


@lru_cache(maxsize=2)
def _load(path: str, name: str) -> TwilioSpec:
    return TwilioSpec(json.loads(Path(path).read_text()), name)


def load_twilio_spec(name: str = "api_v2010") -> TwilioSpec:
    """The parsed spec (``api_v2010`` or ``messaging_v1``), or a pytest skip saying where the
    file belongs."""
    path = spec_path(name)
    if not path.is_file():
        pytest.skip(f"{SPEC_HINT.format(file=SPEC_FILES[name])} (looked at {path})")
    return _load(str(path.resolve()), name)
