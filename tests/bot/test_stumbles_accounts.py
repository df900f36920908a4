"""Issue 17, item 2: two invitations for the same contract (``onboard invite --contract
DE-PRAXIS-01`` twice), redeemed by two people of the practice, give two accounts — neither
replaces the other's password or service-PIN hash or profile. Through the CLI that prints the
links, the Telegram transport and the password and PIN pages over HTTP."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.cli.invites import InviteRequest, invite
from storage.crm_import import load_crm
from storage.invitations import SqlInvitations
from storage.models import AccountRow
from storage.profiles import SqlProfiles
from tests.bot.harness import Customer
from tests.bot.test_de_flow_telegram import De, de_bot, text_of

pytestmark = pytest.mark.stumbles

DEMO_CRM = Path(__file__).resolve().parents[2] / "demo" / "crm.yaml"
CONTRACT = "DE-PRAXIS-01"


async def invitation_link(de: De, capsys: pytest.CaptureFixture[str], locale: str) -> str:
    """``onboard invite de-video-consultation --contract DE-PRAXIS-01 --locale <locale>``: the
    token of the link it prints."""
    request = InviteRequest(flow="de-video-consultation", contract=CONTRACT, locale=locale)
    assert await invite(de.bot.app.settings, request) == 0
    link = capsys.readouterr().out.splitlines()[0]
    return link.rsplit("start=", 1)[1]


async def register(de: De, person: Customer, token: str, username: str, locale: str) -> None:
    await person.send(f"/start {token}")
    await person.send(username)
    await de.set_password(person)
    await de.set_pin(person)
    await person.press(de.t(text_of("two_factor", "no_label"), locale))
    visible = de.t(text_of("visibility", "yes_label"), locale)
    assert await person.press(visible) == [de.t(text_of("finished"), locale)]


async def accounts(de: De) -> dict[str, tuple[int | None, str | None, str | None]]:
    query = select(
        AccountRow.conversation_key,
        AccountRow.customer_id,
        AccountRow.password_hash,
        AccountRow.pin_hash,
    )
    async with de.bot.app.db.connect() as connection:
        rows = (await connection.execute(query)).all()
    return {key: (customer, password, pin) for key, customer, password, pin in rows}


@pytest.mark.parametrize("locale", ["de", "en"])
async def test_two_invitations_for_one_contract_give_two_accounts(
    tmp_path: Path, app_redis: str, locale: str, capsys: pytest.CaptureFixture[str]
) -> None:
    async with de_bot(tmp_path, app_redis) as de:
        de.clock.now = time.time()  # the CLI dates its invitations by the real clock
        assert (await load_crm(de.bot.app.db, DEMO_CRM)).errors == []
        ((practice, _),) = await SqlInvitations(de.bot.app.db).contracts_by_number(CONTRACT)
        first = await invitation_link(de, capsys, locale)
        second = await invitation_link(de, capsys, locale)

        doctor = de.bot.customer(user_id=811, language_code=locale)
        await register(de, doctor, first, "dr.mueller", locale)
        before = await accounts(de)
        (doctors,) = before.values()
        assert doctors[0] == practice
        assert None not in doctors  # a password and a PIN, hashed

        assistant = de.bot.customer(user_id=812, language_code=locale)
        await register(de, assistant, second, "praxis.assistenz", locale)
        after = await accounts(de)
        assert len(after) == 2  # one account per person, both for the practice
        assert {customer for customer, _, _ in after.values()} == {practice}
        doctor_key = next(iter(before))
        assert after[doctor_key] == doctors  # the first person's hashes are untouched
        assistants = next(value for key, value in after.items() if key != doctor_key)
        assert assistants[1:] != doctors[1:]

        profiles = SqlProfiles(de.bot.app.db)
        for username in ("dr.mueller", "praxis.assistenz"):
            profile = await profiles.get_profile(username)
            assert profile is not None
            assert (profile.customer_id, profile.edition, profile.visible) == (
                practice,
                "practice",
                True,
            )
