"""Place a simulated inbound call on a running sandbox and print the conversation."""

from __future__ import annotations

import argparse
import sys
from typing import Any

import requests


def parse_input(raw: str) -> dict[str, Any]:
    """``1`` / ``digits:12#`` → keys; ``speech:text`` → utterance; ``silence``; ``record:text``."""
    kind, _, value = raw.partition(":")
    if raw == "silence":
        return {"silence": True}
    if kind == "speech" and value:
        return {"speech": value}
    if kind == "record" and value:
        return {"record": value}
    if kind == "digits" and value:
        return {"digits": value}
    return {"digits": raw}


def describe(entry: dict[str, Any]) -> str | None:
    """One printable line per transcript entry the caller would notice."""
    if "say" in entry:
        return f"  bot: {entry['say']}"
    if "play" in entry:
        return f"  bot: [audio {entry['play']}]"
    if "gather" in entry:
        heard = entry["gather"]
        if "digits" in heard:
            return f"  you: pressed {heard['digits']}"
        if "speech" in heard:
            return f'  you: "{heard["speech"]}"'
        return "  you: (silence)"
    if "record" in entry:
        return f"  you (recorded): {entry['record'].get('text', '(silence)')}"
    if "dial" in entry:
        return f"  bot: [dialing {entry['dial']}]"
    if "request" in entry:
        return f"  -> {entry['request']} {entry['status']} ({entry['ms']} ms)"
    return None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Simulate an inbound call to an owned number")
    parser.add_argument("--sandbox", default="http://127.0.0.1:8765")
    parser.add_argument("--to", required=True, help="an owned number, E.164")
    parser.add_argument("--from", dest="from_", default="+15005550006", help="caller, E.164")
    parser.add_argument("--input", action="append", default=[], help="1 | speech:... | silence")
    parser.add_argument("--max-steps", type=int, default=50)
    args = parser.parse_args(argv)
    payload = {
        "to": args.to,
        "from": args.from_,
        "inputs": [parse_input(raw) for raw in args.input],
        "max_steps": args.max_steps,
    }
    response = requests.post(f"{args.sandbox.rstrip('/')}/sandbox/calls", json=payload, timeout=120)
    if response.status_code != 200:
        print(f"sandbox answered {response.status_code}: {response.text}", file=sys.stderr)
        return 1
    call = response.json()
    print(f"call {call['call_sid']} {call['from']} -> {call['to']}")
    for entry in call["transcript"]:
        line = describe(entry)
        if line:
            print(line)
    for error in call["errors"]:
        print(f"  error {error['code']}: {error['message']} ({error['url']})")
    print(f"status: {call['status']}")
    return 0 if call["status"] == "completed" else 2


if __name__ == "__main__":
    sys.exit(main())
