"""The bot's profile in Telegram, from the catalogs: the command menu (``setMyCommands``), the
description of an empty chat (``setMyDescription``) and the profile's short description
(``setMyShortDescription``), once at start for each language.

English is the default (no ``language_code``: every client language without a list of its
own); every other supported locale gets its own, so a customer whose Telegram is in Polish
sees the menu in Polish. A failure is logged and start-up goes on: the menu is a convenience,
the bot works without it.
"""

from __future__ import annotations

import logging

from telegram import Bot, BotCommand
from telegram.error import TelegramError

from dialogs.i18n import N_, SOURCE_LOCALE, SUPPORTED_LOCALES, Catalogs

log = logging.getLogger(__name__)

COMMANDS = (
    ("start", N_("Begin or continue")),
    ("back", N_("Go back to the previous question")),
    ("cancel", N_("Stop and delete your answers")),
    ("language", N_("Change the language")),
    ("human", N_("Ask a person from our support team")),
    ("ticket", N_("File a support ticket")),
    ("tickets", N_("Your tickets and their answers")),
    ("mydata", N_("What we keep about you")),
    ("forget", N_("Delete what we keep about you")),
    ("help", N_("What this chat can do")),
)
DESCRIPTION = N_(
    "Register for our customer portal right here, step by step: we check your details, send "
    "you a one-time code and give you a secure link to set your password. Your password is "
    "never typed into the chat. Send /start to begin."
)
SHORT_DESCRIPTION = N_("Registration for our customer portal, step by step, and support tickets.")


def menu(catalogs: Catalogs, locale: str) -> list[BotCommand]:
    return [BotCommand(name, catalogs.gettext(text, locale)) for name, text in COMMANDS]


async def publish_profile(bot: Bot, catalogs: Catalogs) -> int:
    """Set the menu and descriptions for every locale; returns how many calls failed."""
    failed = 0
    for locale in SUPPORTED_LOCALES:
        language = None if locale == SOURCE_LOCALE else locale
        calls = (
            bot.set_my_commands(menu(catalogs, locale), language_code=language),
            bot.set_my_description(catalogs.gettext(DESCRIPTION, locale), language_code=language),
            bot.set_my_short_description(
                catalogs.gettext(SHORT_DESCRIPTION, locale), language_code=language
            ),
        )
        for call in calls:
            try:
                await call
            except TelegramError as exc:
                failed += 1
                log.warning("bot profile (%s) not set: %s", locale, exc)
    return failed
