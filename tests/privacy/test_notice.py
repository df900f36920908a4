"""The privacy notice (issue 20): once per conversation, before a flow's first question for
personal data, with the company's policy or the flow's own; the maintainers' check reports
a flow that asks for data without it."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from bot.cli.actions import flows
from dialogs.flow import FLOWS_DIR, FlowRegistry, load_flow
from dialogs.render import render
from dialogs.steps.privacy import notice
from tests.bot.harness import running_bot
from tests.bot.test_bg_flow_telegram import EIK, INTRO, t
from tests.conftest import make_settings
from tests.notice import CATALOGS, notice_text
from tests.support.helpers import REGISTER_FLOW

pytestmark = pytest.mark.privacy

NOTICED_FLOW = """\
id: noticed
language: en
title: "Register for the subscription customer portal"
start: privacy
steps:
  privacy:
    kind: privacy_notice
    {url}
    next: email
  email:
    kind: ask
    text: "Now enter the e-mail address for correspondence that is recorded with us."
    validate: email
    next: done
  done:
    kind: end
    text: >-
      Your account is active. Log in to the customer portal, where you can create requests
      (tickets) and view your documents.
"""


@pytest.mark.parametrize("locale", ["en", "pl"])
async def test_the_notice_comes_once_before_the_first_question(tmp_path: Path, locale: str) -> None:
    async with running_bot(make_settings(tmp_path)) as bot:
        alice = bot.customer(language_code=locale)
        first = await alice.send("/start")
        assert first == [t(INTRO, locale), notice_text(locale), t(EIK, locale)]
        assert "https://example.com/privacy" in first[1]
        await alice.send("/cancel")
        assert await alice.send("/start") == [t(INTRO, locale), t(EIK, locale)]  # seen already


@pytest.mark.parametrize(
    ("url_line", "shown"),
    [
        ("", "https://company.example.com/privacy"),
        ("url: https://flow.example.com/p", "https://flow.example.com/p"),
    ],
)
async def test_the_company_policy_or_the_flows_own(
    tmp_path: Path, url_line: str, shown: str
) -> None:
    flows_dir = tmp_path / "flows"
    flows_dir.mkdir()
    (flows_dir / "noticed.yaml").write_text(NOTICED_FLOW.format(url=url_line), encoding="utf-8")
    settings = make_settings(
        tmp_path, default_flow="noticed", privacy_url="https://company.example.com/privacy"
    )
    async with running_bot(settings, flows_dir=flows_dir) as bot:
        said = await bot.customer(language_code="de").send("/start")
        assert said[0] == render(notice(shown, 30), CATALOGS, "de")
        assert len(said) == 2


def test_the_check_reports_a_flow_that_asks_before_the_notice(tmp_path: Path) -> None:
    from dialogs.steps.privacy import missing_notice

    path = tmp_path / "unnoticed.yaml"
    path.write_text(textwrap.dedent(REGISTER_FLOW), encoding="utf-8")
    assert missing_notice(load_flow(path)) == ["nip"]
    assert [missing_notice(f) for f in FlowRegistry.from_directory(FLOWS_DIR)] == [[]] * 7


def test_onboard_flows_check_passes_the_shipped_flows(capsys: pytest.CaptureFixture[str]) -> None:
    assert flows("check") == 0
    assert "flows OK" in capsys.readouterr().out
