"""``onboard``: run the bot, chat in the terminal, load the CRM, inspect flows and catalogs."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence
from pathlib import Path

from bot import loop as event_loop
from bot.cli.parser import USAGE, build_parser
from bot.config import Settings, load_settings, secret_values
from bot.ops.logs import configure_logging
from dialogs.errors import ConfigError, OnboardError

ROOT = Path(__file__).resolve().parents[2]
DEMO_CRM = ROOT / "demo" / "crm.yaml"


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        settings = load_settings()
        configure_logging(
            settings.log_level,
            quiet=_is_chat(args, settings),
            fmt=settings.log_format,
            secrets=secret_values(settings),
        )
        return event_loop.run(_dispatch(args, settings))
    except ConfigError as exc:
        return _fail(exc, USAGE)
    except OnboardError as exc:
        return _fail(exc, 1)
    except KeyboardInterrupt:
        return 130
    except Exception as exc:  # a bug or an unforeseen failure: one line, details at DEBUG
        logging.getLogger("onboard").debug("unexpected error", exc_info=True)
        print(
            f"onboard: unexpected error ({type(exc).__name__}: {exc}); "
            "LOG_LEVEL=DEBUG shows where it happened",
            file=sys.stderr,
        )
        return 1


async def _ops(args: argparse.Namespace, settings: Settings) -> int:
    if args.command == "funnel":
        from bot.cli.funnel import funnel  # noqa: PLC0415

        return await funnel(settings, args.flow, args.since, args.format, args.output)
    from bot.ops.health import probe  # noqa: PLC0415

    return await probe(settings, ready=args.ready)


def _fail(exc: OnboardError, code: int) -> int:
    for line in str(exc).splitlines():
        print(f"onboard: {line}", file=sys.stderr)
    return code


def _is_chat(args: argparse.Namespace, settings: Settings) -> bool:
    """The terminal chat owns the terminal: logs stay out of its lines."""
    return args.command == "chat" or (args.command == "run" and settings.bot_token is None)


def _check_arguments(args: argparse.Namespace, settings: Settings) -> None:
    """What argparse cannot know: values that depend on the settings or the flow files."""
    if args.command == "run" and args.workers > 1 and not args.webhook:
        raise ConfigError("--workers needs --webhook (polling allows one consumer)")
    webhook_ready = settings.webhook_url and settings.webhook_secret is not None
    if args.command == "run" and args.webhook and settings.bot_token and not webhook_ready:
        raise ConfigError(
            "--webhook needs WEBHOOK_URL and WEBHOOK_SECRET (the public https:// address "
            "Telegram posts to, and the secret it must send with every update)"
        )
    if args.command == "chat" and args.flow is not None:
        from dialogs.flow import FlowRegistry  # noqa: PLC0415 - keeps `--help` fast

        known = [flow.id for flow in FlowRegistry.from_directory()]
        if args.flow not in known:
            raise ConfigError(f"unknown flow {args.flow!r}: use one of {', '.join(known)}")


async def _dispatch(args: argparse.Namespace, settings: Settings) -> int:
    from bot.cli import actions, serve  # noqa: PLC0415 - keeps `--help` fast

    _check_arguments(args, settings)
    if args.command == "run" and args.workers > 1:
        from bot.workers import run_workers  # noqa: PLC0415

        return await run_workers(settings, args.workers, demo_crm=DEMO_CRM)
    if args.command == "run":
        return await serve.run(settings, webhook=args.webhook, demo_crm=DEMO_CRM)
    if args.command == "web":
        return await serve.web_pages(settings)
    if args.command == "chat":
        return await serve.chat(
            settings,
            flow=args.flow,
            language=args.lang,
            crm=DEMO_CRM if args.demo else None,
            fresh=args.fresh,
        )
    if args.command in ("invite", "guest-code"):
        from bot.cli import invites  # noqa: PLC0415

        if args.command == "guest-code":
            return await invites.guest_code(
                settings, session=args.session, join_url=args.join_url, hours=args.hours
            )
        request = invites.InviteRequest(
            args.flow, args.customer, args.contract, args.edition, args.locale, args.days
        )
        return await invites.invite(settings, request)
    if args.command == "crm" and args.crm_command == "sync":
        return await actions.crm_sync(settings, full=args.full)
    if args.command == "crm":
        return await actions.crm_load(
            settings, args.file, mapping=args.mapping, dry_run=args.dry_run
        )
    if args.command in ("funnel", "health"):
        return await _ops(args, settings)
    if args.command == "flows" and args.flows_command == "draw":
        return actions.flows_draw(args.flow_id, args.format, args.output)
    if args.command == "flows" and args.flows_command == "docs":
        return actions.flows_docs()
    if args.command == "flows":
        return actions.flows(args.flows_command)
    return actions.locales(
        args.locales_command,
        drop_obsolete=getattr(args, "drop_obsolete", False),
        directory=getattr(args, "dir", None),
    )


if __name__ == "__main__":
    raise SystemExit(main())
