"""Run the sandbox as a threaded server: ``python -m ringly.sandbox --port 8765``."""

from __future__ import annotations

import argparse

from werkzeug.serving import run_simple

from ringly.sandbox import create_app


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Ringly's local Twilio sandbox")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--state-file", help="JSON file that keeps state across restarts")
    parser.add_argument("--account-sid", help="defaults to SANDBOX_ACCOUNT_SID or the built-in SID")
    parser.add_argument("--auth-token", help="defaults to SANDBOX_AUTH_TOKEN or the built-in token")
    args = parser.parse_args(argv)
    config = {}
    if args.state_file:
        config["SANDBOX_STATE_FILE"] = args.state_file
    if args.account_sid:
        config["SANDBOX_ACCOUNT_SID"] = args.account_sid
    if args.auth_token:
        config["SANDBOX_AUTH_TOKEN"] = args.auth_token
    run_simple(args.host, args.port, create_app(config), threaded=True)


if __name__ == "__main__":
    main()
