"""Rolling deploys: two workers with different copies of a flow file serve one customer
against one Redis (and one records database). The conversation state records the flow file's
version and its step's; the other worker goes on when the step the customer answers is the
same there, and otherwise starts again politely in the customer's language."""

from __future__ import annotations

import itertools
import shutil
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest

from dialogs.engine import FLOW_CHANGED
from dialogs.events import ConversationKey
from dialogs.flow import FLOWS_DIR, load_flow, same_step
from dialogs.state import ConversationState
from tests.bot.harness import Customer, RunningBot, running_bot
from tests.bot.test_bg_flow_telegram import CODE, EIK, EMAIL, INTRO, t
from tests.conftest import make_settings
from tests.notice import notice_text

pytestmark = pytest.mark.cluster
BG = "bg-subscription-portal.yaml"
USER = 5151


def flows_with(folder: Path, old: str, new: str) -> Path:
    """A copy of the shipped flows, the bg flow's text ``old`` replaced by ``new``."""
    shutil.copytree(FLOWS_DIR, folder)
    path = folder / BG
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return folder


@asynccontextmanager
async def two_workers(
    tmp_path: Path, redis: str, flows_b: Path
) -> AsyncIterator[tuple[RunningBot, RunningBot]]:
    """Worker A with the shipped flows and worker B with ``flows_b``: one Redis, one records
    database, the same bot (token), each polling its own Bot API server."""
    settings = make_settings(tmp_path, redis_url=redis)
    async with (
        running_bot(settings) as old,
        running_bot(settings, flows_dir=flows_b, local_crm=False) as new,
    ):
        new.api.state._update_ids = itertools.count(300_000_001)  # Telegram's ids are global
        yield old, new


async def walk_to_the_email_question(old: RunningBot, locale: str) -> None:
    customer = old.customer(USER, locale)
    assert await customer.send("/start") == [t(INTRO, locale), notice_text(locale), t(EIK, locale)]
    assert await customer.send("175074752") == [t(EMAIL, locale)]


async def on_b_says(old: RunningBot, new: RunningBot, text: str, locale: str) -> list[str]:
    """The customer's next message reaches worker B; the replies, whichever worker delivered
    them (what a turn owes is shared: A may still hold the conversation's delivery lease).
    In production both talk to one Telegram; here each has its own Bot API server."""
    before = len(old.api.sent_messages(USER))
    replies = await Customer(new, USER, locale).send(text)
    await old.app.dispatcher.settled()
    await new.app.dispatcher.settled()
    return replies + [m["text"] for m in old.api.sent_messages(USER)[before:]]


async def state_of(bot: RunningBot) -> ConversationState:
    key = ConversationKey(bot.transport.bot_id, USER, USER)
    return ConversationState.decode((await bot.app.store.begin(key, None)).data)


def test_revisions_name_the_file_and_the_step() -> None:
    flow = load_flow(FLOWS_DIR / BG)
    version, _, step = flow.revisions["email"].partition(".")
    assert version == flow.version
    assert len(version) == 8
    assert len(step) == 6
    assert len({r.partition(".")[2] for r in flow.revisions.values()}) == len(flow.revisions)
    assert same_step("", flow.revisions["email"])  # a state from before revisions: goes on
    assert same_step(f"0badc0de.{step}", flow.revisions["email"])
    assert not same_step(flow.revisions["eik"], flow.revisions["email"])


async def test_the_other_worker_goes_on_when_the_step_is_unchanged(
    tmp_path: Path, app_redis: str
) -> None:
    flows_b = flows_with(tmp_path / "flows-b", "length: 6", "length: 8")  # a later step
    async with two_workers(tmp_path, app_redis, flows_b) as (old, new):
        await walk_to_the_email_question(old, "de")
        before = await state_of(old)
        assert before.revision == old.app.flows.get(before.flow).revisions["email"]  # type: ignore[union-attr]
        replies = await on_b_says(old, new, "Demo@Example.com", "de")
        assert replies == [t(CODE, "de", length=8, address="demo@example.com")]
        after = await state_of(new)
    assert after.step == "code"
    assert after.answers["email"] == "demo@example.com"
    assert after.revision.partition(".")[0] != before.revision.partition(".")[0]  # B's file


async def test_the_other_worker_starts_again_politely_when_the_step_changed(
    tmp_path: Path, app_redis: str
) -> None:
    # B asks the e-mail question with other options (it validates no more)
    flows_b = flows_with(tmp_path / "flows-b", "    validate: email\n", "")
    async with two_workers(tmp_path, app_redis, flows_b) as (old, new):
        await walk_to_the_email_question(old, "pl")
        replies = await on_b_says(old, new, "demo@example.com", "pl")
        state = await state_of(new)
    assert replies == [t(FLOW_CHANGED, "pl"), t(INTRO, "pl"), t(EIK, "pl")]
    assert t(FLOW_CHANGED, "pl") != FLOW_CHANGED  # in the customer's language
    assert state.step == "eik"
    assert state.answers == {}
