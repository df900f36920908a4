"""Support-ticket scenarios: a customer who registers through a small test flow (existing
catalog texts, so the real catalogs load it), and an agent in the support group."""

from __future__ import annotations

import asyncio
import html
import shutil
import textwrap
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dialogs.flow import FLOWS_DIR
from dialogs.render import render
from dialogs.replies import Text
from tests.bot.harness import Customer, RunningBot, running_bot
from tests.conftest import make_settings

GROUP = -1001989718457
NIP, EMAIL = "8567346215", "biuro@example.pl"  # demo/crm.yaml: contract A123456, two devices
REGISTER_FLOW = """\
id: test-register
language: en
title: "Register for the subscription customer portal"
start: nip
steps:
  nip:
    kind: ask
    text: "Step 1 of 3. Please enter your company's EIK (9 or 13 digits)."
    validate: pl_nip
    next: email
  email:
    kind: ask
    text: "Now enter the e-mail address for correspondence that is recorded with us."
    validate: email
    next: match
  match:
    kind: crm_match
    scheme: pl_nip
    tax_id: nip
    email: email
    found: finished
    not_found: nip
  finished:
    kind: end
    text: >-
      Your account is active. Log in to the customer portal, where you can create requests
      (tickets) and view your documents.
"""
FINISHED = (
    "Your account is active. Log in to the customer portal, where you can create requests "
    "(tickets) and view your documents."
)


@asynccontextmanager
async def support_bot(
    tmp_path: Path, redis_url: str | None, *, forum: bool, **settings: Any
) -> AsyncIterator[RunningBot]:
    flows = tmp_path / "flows"
    flows.mkdir(exist_ok=True)
    (flows / "test-register.yaml").write_text(textwrap.dedent(REGISTER_FLOW), encoding="utf-8")
    shutil.copy(FLOWS_DIR / "support-ticket.yaml", flows)  # the shipped ticket flow
    config = make_settings(
        tmp_path,
        redis_url=redis_url,
        default_flow="test-register",
        support_chat_id=GROUP,
        **settings,
    )
    async with running_bot(config, flows_dir=flows) as bot:
        bot.api.supergroup(GROUP, title="Support", forum=forum)
        yield bot


def t(bot: RunningBot, msgid: str, locale: str, **params: str | int) -> str:
    """What the bot says, rendered through the catalogs (same in every locale)."""
    escape = lambda value: html.escape(value, quote=False)  # noqa: E731
    return render(Text(msgid, params), bot.app.catalogs, locale, escape)


async def register(customer: Customer) -> None:
    await customer.send("/start")
    await customer.send(NIP)
    assert (await customer.send(EMAIL))[-1] == t(customer.bot, FINISHED, customer.language_code)


@dataclass
class Agent:
    """A support agent writing in the support group."""

    bot: RunningBot
    user_id: int = 5550001
    name: str = "Dana"

    async def deliver(self, update: dict[str, Any]) -> int:
        done = self.bot.expect(update["update_id"])
        self.bot.api.push(update)
        await asyncio.wait_for(done.wait(), timeout=10)
        return int(update["message"]["message_id"])

    async def say(self, text: str, **where: Any) -> int:
        update = self.bot.api.group_message(
            GROUP, self.user_id, text, first_name=self.name, **where
        )
        return await self.deliver(update)

    async def send_file(self, **where: Any) -> int:
        update = self.bot.api.group_file(GROUP, self.user_id, first_name=self.name, **where)
        return await self.deliver(update)


def group_texts(bot: RunningBot) -> list[dict[str, Any]]:
    return bot.api.sent_messages(GROUP)


def copies_to(bot: RunningBot, chat_id: int) -> list[dict[str, Any]]:
    return [
        call.params
        for call in bot.api.calls_to("copyMessage")
        if call.status == 200 and str(call.params.get("chat_id")) == str(chat_id)
    ]
