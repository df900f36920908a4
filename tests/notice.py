"""The privacy notice as a customer reads it (issue 20): what flow walks expect right before
a flow's first question for personal data, once per conversation."""

from __future__ import annotations

from bot.config import Settings
from dialogs.i18n import Catalogs
from dialogs.render import render
from dialogs.steps.privacy import notice

CATALOGS = Catalogs()
PRIVACY_URL = str(Settings.model_fields["privacy_url"].default)
RETAIN_DAYS = int(Settings.model_fields["retain_finished_days"].default)


def notice_text(locale: str) -> str:
    """The default settings' notice in ``locale`` (it has nothing the HTML escape changes)."""
    return render(notice(PRIVACY_URL, RETAIN_DAYS), CATALOGS, locale)
