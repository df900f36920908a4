"""``onboard``'s command line: every command, its arguments and their checks (argparse).

A usage error is one line and exit code :data:`USAGE`; the commands run in :mod:`bot.cli.main`.
"""

from __future__ import annotations

import argparse
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import NoReturn

from dialogs.i18n import SUPPORTED_LOCALES

USAGE = 2  # exit code of a wrong command line or setting; 1 is a failure while running


class Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line (and the subcommands inherit it)."""

    def error(self, message: str) -> NoReturn:
        self.exit(USAGE, f"{self.prog}: {message} (see `{self.prog} --help`)\n")


def at_least_one(text: str) -> int:
    try:
        number = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if number < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {number}")
    return number


def not_blank(text: str) -> str:
    if not text.strip():
        raise argparse.ArgumentTypeError("must not be empty")
    return text.strip()


def readable_file(text: str) -> Path:
    path = Path(text)
    if not path.exists():
        raise argparse.ArgumentTypeError(f"{text}: no such file")
    if not path.is_file():
        raise argparse.ArgumentTypeError(f"{text}: not a file (a directory?)")
    return path


def package_version() -> str:
    try:
        return version("onboard")
    except PackageNotFoundError:  # running from a source tree that was never installed
        return "unknown"


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(prog="onboard", description="Conversational customer onboarding for Telegram.")
    parser.add_argument("--version", action="version", version=f"onboard {package_version()}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    run = commands.add_parser(
        "run",
        help="run the bot (polling, or --webhook); without BOT_TOKEN: terminal chat on demo data",
        description="Run the Telegram bot. With no BOT_TOKEN set, opens the terminal chat on "
        "the demo CRM instead.",
    )
    run.add_argument("--webhook", action="store_true", help="serve a webhook instead of polling")
    run.add_argument(
        "--workers",
        type=at_least_one,
        default=1,
        metavar="N",
        help="with --webhook: N worker processes on one HOST:PORT (shared Redis and database)",
    )

    commands.add_parser(
        "web",
        help="serve only the hand-off pages (password, PIN, portal redeem)",
        description="Serve the hand-off pages on HOST:PORT without polling Telegram. With "
        "BOT_TOKEN the chat is told through the Bot API; without, replies are printed here.",
    )

    chat = commands.add_parser(
        "chat",
        help="talk to a flow in the terminal",
        description="Talk to a flow in the terminal (stdin/stdout).",
    )
    chat.add_argument("--flow", help="flow id (see `onboard flows list`)")
    chat.add_argument("--lang", choices=SUPPORTED_LOCALES, help="language of the conversation")
    chat.add_argument("--demo", action="store_true", help="load the demo CRM first")
    chat.add_argument("--fresh", action="store_true", help="forget the previous terminal chat")

    crm = commands.add_parser("crm", help="CRM records", description="CRM records.")
    crm_commands = crm.add_subparsers(dest="crm_command", required=True, metavar="ACTION")
    load = crm_commands.add_parser(
        "load",
        help="import customers from a YAML/JSON, CSV or XLSX file",
        description="Import customers (YAML/JSON, CSV with any delimiter in UTF-8/cp1250/cp1251, "
        "or XLSX); bad rows are reported with line and reason, good rows still load.",
    )
    load.add_argument("file", type=readable_file)
    load.add_argument(
        "--mapping",
        type=readable_file,
        help="YAML file naming which column is which field (CSV/XLSX; see docs/crm-format.md)",
    )
    load.add_argument(
        "--dry-run", action="store_true", help="check and report every row; change nothing"
    )
    sync = crm_commands.add_parser(
        "sync",
        help="pull the CRM's changes (CRM_LOOKUP_URL) into the local copy",
        description="Pull the customers changed since the last sync from the CRM's list "
        "endpoint into the local copy; customers removed at the source are deactivated.",
    )
    sync.add_argument("--full", action="store_true", help="start from the beginning")

    invite = commands.add_parser(
        "invite",
        help="create a one-time invitation link (t.me deep link) to a flow",
        description="Create a one-time invitation to a flow that starts with an invitation "
        "step and print its link https://t.me/<BOT_USERNAME>?start=<token>. Only the token's "
        "hash is stored.",
    )
    invite.add_argument("flow", metavar="FLOW", help="flow id, e.g. de-video-consultation")
    invite.add_argument("--customer", metavar="SCHEME:TAX_ID", help="the CRM customer")
    invite.add_argument("--contract", metavar="NUMBER", help="the CRM contract (and its edition)")
    invite.add_argument("--edition", help="product edition (default: the contract's, if any)")
    invite.add_argument(
        "--locale",
        choices=SUPPORTED_LOCALES,
        help="language of the conversation (default: the flow's)",
    )
    invite.add_argument(
        "--days",
        type=at_least_one,
        metavar="N",
        help="valid N days (default: INVITATION_TTL_DAYS, 14)",
    )
    guest = commands.add_parser(
        "guest-code",
        help="create a guest's personal access code to one session (no account)",
        description="Create a personal access code for a guest or patient of one session; "
        "they send it to the bot (flow de-video-guest) and get the join link. Printed once.",
    )
    guest.add_argument(
        "--session", required=True, type=not_blank, help="the appointment, as the guest sees it"
    )
    guest.add_argument("--join-url", required=True, help="https:// link that joins the session")
    guest.add_argument("--hours", type=at_least_one, default=24, help="valid this many hours (24)")

    ops_commands(commands)

    flows = commands.add_parser("flows", help="flow definitions", description="Flow definitions.")
    flow_commands = flows.add_subparsers(dest="flows_command", required=True, metavar="ACTION")
    flow_commands.add_parser(
        "list",
        help="list the shipped flows",
        description="List the flows with id, language and title.",
    )
    flow_commands.add_parser(
        "check",
        help="validate every flow file",
        description="Validate every flow file; exit 1 on the first error.",
    )
    draw = flow_commands.add_parser(
        "draw",
        help="draw a flow as a diagram (Mermaid or SVG)",
        description="Draw a flow: steps with kind and text, branches, error loops (invalid), "
        "hand-off links and @actions. Mermaid text for Markdown, or a standalone SVG.",
    )
    draw.add_argument("flow_id", metavar="ID", help="flow id (see `onboard flows list`)")
    draw.add_argument("--format", choices=("mermaid", "svg"), default="mermaid")
    draw.add_argument("-o", "--output", type=Path, help="write to this file instead of stdout")
    flow_commands.add_parser(
        "docs",
        help="regenerate docs/flows/*.md and the README's flow diagrams",
        description="Regenerate the committed flow diagrams from the flow files.",
    )

    locales = commands.add_parser(
        "locales", help="message catalogs", description="Message catalogs (gettext, via Babel)."
    )
    locale_commands = locales.add_subparsers(
        dest="locales_command", required=True, metavar="ACTION"
    )
    for name, text in (
        ("extract", "rebuild locales/messages.pot from code and flows"),
        ("update", "merge the template into every locale's .po"),
        ("compile", "compile .po to .mo"),
        ("check", "report every catalog problem as FILE:LINE: message; exit 1 if any"),
    ):
        action = locale_commands.add_parser(name, help=text, description=text)
        if name == "update":
            action.add_argument(
                "--drop-obsolete", action="store_true", help="delete #~ (obsolete) entries"
            )
        if name == "check":
            action.add_argument("--dir", type=Path, help="catalogs to check (default: locales/)")
    return parser


def duration(text: str) -> float:
    from bot.ops.funnel import parse_since  # noqa: PLC0415 - keeps `--help` fast

    try:
        return parse_since(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def ops_commands(commands: argparse._SubParsersAction[Parser]) -> None:
    funnel = commands.add_parser(
        "funnel",
        help="where customers get stuck: per flow and step, reached / moved on / re-asked / "
        "abandoned",
        description="The onboarding funnel from the step events in the database: per flow and "
        "step, how many customers reached it, moved on, were asked again (invalid input) and "
        "went silent there (FUNNEL_ABANDONED_HOURS). A table, or a chart (svg, png).",
    )
    funnel.add_argument("--flow", metavar="ID", help="one flow (default: every flow)")
    funnel.add_argument(
        "--since", type=duration, default=7 * 86_400, metavar="AGE", help="30m, 12h, 7d (7d), 2w"
    )
    funnel.add_argument("--format", choices=("table", "svg", "png"), default="table")
    funnel.add_argument(
        "-o", "--output", type=Path, help="chart file (default: funnel.svg / funnel.png)"
    )
    health = commands.add_parser(
        "health",
        help="ask the running server on PORT: /healthz (or --ready: /readyz); exit 0 or 1",
        description="The Docker HEALTHCHECK: GET http://127.0.0.1:PORT/healthz (with --ready, "
        "/readyz) and exit 0 when it answers 200, else print what is wrong and exit 1.",
    )
    health.add_argument("--ready", action="store_true", help="readiness instead of liveness")
