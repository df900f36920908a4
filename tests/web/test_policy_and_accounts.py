"""Password policy, PIN rules, hashing and the account store, without a browser."""

from __future__ import annotations

import asyncio
import textwrap
from pathlib import Path

import pytest

from bot.web.passwords import RULE_LENGTH, TOO_LONG, CommonPasswords, SecretHasher, problems
from bot.web.pin import generate_pin, pin_pdf, pin_problems
from dialogs.flow import load_flow
from dialogs.steps.handoff import Handoff, PasswordPolicy, PinPolicy, token_hash
from storage.accounts import MAX_PIN_FAILURES, PinCheck, SqlAccounts
from storage.db import create_engine, migrate
from storage.records import SqlRecords
from tests.web.helpers import KK_POLICY

COMMON = CommonPasswords()
KK = PasswordPolicy.model_validate(KK_POLICY)
BG = PasswordPolicy(upper=True, lower=True)


def named(policy: PasswordPolicy, password: str, again: str | None = None) -> list[str]:
    return [
        t.msgid for t in problems(policy, COMMON, password, password if again is None else again)
    ]


def test_the_default_is_nist_length_and_common_list_only() -> None:
    default = PasswordPolicy()
    assert named(default, "all lower case and spaces") == []
    assert named(default, "short") == [RULE_LENGTH[0]]
    assert named(default, "Password1") == ["Not a commonly used or example password"]
    assert named(default, "x" * 128) == []
    assert named(default, "x" * 129) == [TOO_LONG[0]]
    assert named(default, "same thing", "same thinG") == ["Both entries match"]


def test_the_shipped_list_is_ten_thousand_real_passwords() -> None:
    assert len(COMMON.words) == 10_000
    assert {"123456", "password", "qwerty", "iloveyou"} <= COMMON.words


def test_bg_and_kk_client_rules() -> None:
    assert named(BG, "lowercase1") == ["An upper-case letter"]
    assert named(BG, "Bulgaria-Sofia") == []
    assert named(KK, "Ag-15!d44") == ["Not a commonly used or example password"]
    assert named(KK, "ДЖabcdef1!") == ["A Latin upper-case letter (A–Z)"]
    assert named(KK, "Abcdefg1#") == ["One of these characters: {symbols}"]
    assert named(KK, "Steppe_Wind-2024") == []


def test_hashes_are_argon2id_and_normalised() -> None:
    hasher = SecretHasher()
    stored = hasher.hash("Ｐａｓｓ-word-9")  # full-width letters: NFKC folds them
    assert stored.startswith("$argon2id$")
    assert hasher.verify(stored, "Pass-word-9")
    assert not hasher.verify(stored, "Pass-word-8")
    assert not hasher.verify("not a hash", "x")


@pytest.mark.parametrize("pin", ["123456", "000000", "654321", "121212", "123123", "112233"])
def test_trivial_pins_are_refused(pin: str) -> None:
    assert [t.msgid for t in pin_problems(PinPolicy(), pin)] == [
        "This PIN is too easy to guess. Avoid runs like 123456 and repeats like 000000."
    ]


def test_pin_rules_and_generation() -> None:
    assert pin_problems(PinPolicy(), "48151623") == []
    assert pin_problems(PinPolicy(), "12a456")[0].msgid == "Use digits only."
    assert pin_problems(PinPolicy(min_digits=8), "4815162")[0].params == {"count": 8}
    pins = {generate_pin(PinPolicy()) for _ in range(50)}
    assert all(len(p) == 6 and not pin_problems(PinPolicy(), p) for p in pins)
    assert len(pins) > 40
    assert b"481 516 23" in pin_pdf("48151623", "Ihre Service-PIN", "Gut aufbewahren.")


def test_a_flow_carries_its_policy(tmp_path: Path) -> None:
    (tmp_path / "kk.yaml").write_text(
        textwrap.dedent(
            """
            id: kk-test
            language: kk
            title: "Test"
            start: page
            steps:
              page:
                kind: handoff
                text: "Open the page"
                policy: {min_length: 8, upper: true, lower: true, digit: true,
                         symbols: "!@$_-", latin: true, forbidden: ["Ag-15!d44"]}
                done: end
              end:
                kind: end
                text: "Done"
            """
        ),
        "utf-8",
    )
    step = load_flow(tmp_path / "kk.yaml", known_messages=None).steps["page"]
    assert isinstance(step, Handoff)
    assert step.options.policy == KK


@pytest.fixture
async def stores(tmp_path: Path):  # type: ignore[no-untyped-def]
    db = create_engine(f"sqlite:///{tmp_path / 'a.db'}")
    await migrate(db)
    try:
        yield SqlRecords(db), SqlAccounts(db)
    finally:
        await db.dispose()


async def issue(records: SqlRecords, raw: str, purpose: str = "password") -> None:
    from dialogs.events import ConversationKey

    await records.store_token(
        token_hash=token_hash(raw),
        purpose=purpose,
        key=ConversationKey(1, 2, 3),
        customer_id=None,
        locale="en",
        expires_at=1000.0,
    )


async def test_a_token_sets_a_password_once_even_when_raced(stores) -> None:  # type: ignore[no-untyped-def]
    records, accounts = stores
    await issue(records, "t1")
    results = await asyncio.gather(
        *(accounts.set_password(token_hash("t1"), "password", f"h{n}", 10.0) for n in range(6))
    )
    assert sum(r is not None for r in results) == 1
    await issue(records, "t2")
    assert await accounts.set_password(token_hash("t2"), "password", "late", 1000.0) is None
    account = await accounts.get(None, "1:2:3")
    assert account is not None
    assert account.password_hash in {f"h{n}" for n in range(6)}


async def test_pin_confirmation_and_ten_failures_in_a_row(stores) -> None:  # type: ignore[no-untyped-def]
    records, accounts = stores
    await issue(records, "p1", "pin")
    assert await accounts.confirm_pin(token_hash("p1"), "pin", 5.0) is None  # nothing chosen
    token = await records.get_token(token_hash("p1"))
    assert token is not None
    assert token.used_at is None
    await accounts.set_pending_pin(token, "stored-hash", 6.0)
    assert await accounts.confirm_pin(token_hash("p1"), "pin", 7.0) is not None
    account = await accounts.get(None, "1:2:3")
    assert account is not None
    assert account.pin_hash == "stored-hash"
    assert account.pending_pin_hash is None
    assert await accounts.check_pin(1, "1:2:3", lambda stored: True, 8.0) is PinCheck.NO_PIN
    # checking by customer needs a customer: attach the account to one
    from sqlalchemy import update

    from storage.models import AccountRow, CustomerRow

    async with accounts._engine.begin() as connection:
        await connection.execute(
            CustomerRow.__table__.insert().values(
                id=7, tax_scheme="bg_eik", tax_id="1", name="X", flags={}, created_at=0.0
            )
        )
        await connection.execute(update(AccountRow).values(customer_id=7))
    wrong = [
        await accounts.check_pin(7, "1:2:3", lambda s: False, 9.0)
        for _ in range(MAX_PIN_FAILURES - 1)
    ]
    assert set(wrong) == {PinCheck.WRONG}
    assert (
        await accounts.check_pin(7, "1:2:3", lambda s: s == "stored-hash", 9.0) is PinCheck.OK
    )  # resets
    results = await asyncio.gather(
        *(accounts.check_pin(7, "1:2:3", lambda s: False, 9.0) for _ in range(MAX_PIN_FAILURES + 5))
    )
    assert results.count(PinCheck.WRONG) == MAX_PIN_FAILURES
    assert results.count(PinCheck.LOCKED) == 5
    assert await accounts.check_pin(7, "1:2:3", lambda s: True, 9.0) is PinCheck.LOCKED
