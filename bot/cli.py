"""``onboard``: run the bot, chat in the terminal, load the CRM, inspect flows and catalogs."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from collections.abc import Sequence
from pathlib import Path

from bot.config import Settings
from dialogs.errors import OnboardError

ROOT = Path(__file__).resolve().parent.parent
DEMO_CRM = ROOT / "demo" / "crm.yaml"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="onboard", description="Conversational customer onboarding for Telegram."
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    run = commands.add_parser(
        "run",
        help="run the bot (polling, or --webhook); without BOT_TOKEN: terminal chat on demo data",
        description="Run the Telegram bot. With no BOT_TOKEN set, opens the terminal chat on "
        "the demo CRM instead.",
    )
    run.add_argument("--webhook", action="store_true", help="serve a webhook instead of polling")

    chat = commands.add_parser(
        "chat",
        help="talk to a flow in the terminal",
        description="Talk to a flow in the terminal (stdin/stdout).",
    )
    chat.add_argument("--flow", help="flow id (see `onboard flows list`)")
    chat.add_argument("--lang", help="language: en, bg, hu, kk, de or pl")
    chat.add_argument("--demo", action="store_true", help="load the demo CRM first")
    chat.add_argument("--fresh", action="store_true", help="forget the previous terminal chat")

    crm = commands.add_parser("crm", help="CRM records", description="CRM records.")
    crm_commands = crm.add_subparsers(dest="crm_command", required=True, metavar="ACTION")
    load = crm_commands.add_parser(
        "load",
        help="import customers from a YAML/JSON file",
        description="Import customers; bad rows are reported "
        "with line and reason, good rows still load.",
    )
    load.add_argument("file", type=Path)

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
    ):
        locale_commands.add_parser(name, help=text, description=text)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    settings = Settings()
    logging.basicConfig(
        level=settings.log_level.upper(),
        stream=sys.stderr,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    for noisy in ("httpx", "alembic"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    try:
        return asyncio.run(_dispatch(args, settings))
    except OnboardError as exc:
        print(f"onboard: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


async def _dispatch(args: argparse.Namespace, settings: Settings) -> int:
    from bot import commands  # noqa: PLC0415 - keeps `--help` fast

    if args.command == "run":
        return await commands.run(settings, webhook=args.webhook, demo_crm=DEMO_CRM)
    if args.command == "chat":
        return await commands.chat(
            settings,
            flow=args.flow,
            language=args.lang,
            crm=DEMO_CRM if args.demo else None,
            fresh=args.fresh,
        )
    if args.command == "crm":
        return await commands.crm_load(settings, args.file)
    if args.command == "flows":
        return commands.flows(args.flows_command)
    return commands.locales(args.locales_command)


if __name__ == "__main__":
    raise SystemExit(main())
