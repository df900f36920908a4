"""What every hand-off page needs: the token, the step that issued it, and the back end.

The step is found through the conversation the token is bound to: a token only opens its page
while that conversation still waits at a ``handoff`` step of the same purpose, so a customer
who cancelled or started again cannot use an old link. Its options carry the policy.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Protocol

from aiohttp import web

from bot.web.pages.guard import Csrf, Throttle
from bot.web.pages.miniapp import INIT_DATA_FIELD, MiniAppAuth
from bot.web.passwords import CommonPasswords, SecretHasher
from dialogs.events import Event, EventKind
from dialogs.flow import FlowRegistry
from dialogs.i18n import Catalogs, negotiate
from dialogs.ports import Clock, StateStore
from dialogs.state import ConversationState, Status
from dialogs.steps.basic import Ask
from dialogs.steps.handoff import Handoff, token_hash
from storage.accounts import SqlAccounts
from storage.records import TokenInfo

log = logging.getLogger(__name__)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
Notifier = Callable[[Event], Awaitable[None]]
"""Applies a signal to its conversation and tells the customer (``TelegramTransport.push``)."""


class TokenLookup(Protocol):
    async def get_token(self, token_hash: str) -> TokenInfo | None: ...


class StepResolver(Protocol):
    async def __call__(self, token: TokenInfo) -> Handoff | None: ...

    async def login(self, token: TokenInfo) -> str | None: ...


class ConversationSteps:
    """Reads (never writes) the conversation a token is bound to."""

    def __init__(self, store: StateStore, flows: FlowRegistry) -> None:
        self._store = store
        self._flows = flows

    async def __call__(self, token: TokenInfo) -> Handoff | None:
        snapshot = await self._store.begin(token.key, None)
        state = ConversationState.decode(snapshot.data)
        flow = self._flows.get(state.flow)
        if flow is None or state.status is not Status.ACTIVE or state.step is None:
            return None
        step = flow.steps.get(state.step)
        if isinstance(step, Handoff) and step.stored_purpose() == token.purpose:
            return step
        return None

    async def login(self, token: TokenInfo) -> str | None:
        """The e-mail address the customer gave in this conversation (an ``ask`` step with
        ``validate: email``): the hidden username a password manager saves beside the
        password. None when the flow asks for none."""
        snapshot = await self._store.begin(token.key, None)
        state = ConversationState.decode(snapshot.data)
        flow = self._flows.get(state.flow)
        if flow is None:
            return None
        for step_id, step in flow.steps.items():
            if isinstance(step, Ask) and step.options.validator == "email":
                value = state.answers.get(step.options.save_as or step_id)
                if value:
                    return value
        return None


@dataclass(frozen=True)
class HandoffBackend:
    """What the forms need to act: accounts, the conversation, the notifier, the guards."""

    accounts: SqlAccounts
    steps: StepResolver
    notify: Notifier
    csrf: Csrf
    throttle: Throttle
    hasher: SecretHasher = field(default_factory=SecretHasher)
    miniapp: MiniAppAuth = field(default_factory=lambda: MiniAppAuth(None, 3600))

    def signed_in(self, form: Mapping[str, object], token: TokenInfo, now: float) -> bool:
        """A form from the Mini App carries Telegram's ``initData``: it must be valid and the
        conversation's user's. A form from a browser carries none: the token suffices."""
        init_data = str(form.get(INIT_DATA_FIELD, ""))
        if not init_data:
            return True
        refusal = self.miniapp.refusal(init_data, user_id=token.key.user_id, now=now)
        if refusal is not None:
            log.info("Mini App sign-in refused on a %s page: %s", token.purpose, refusal)
        return refusal is None

    async def signal(self, token: TokenInfo, purpose: str) -> None:
        await self.notify(Event(token.key, EventKind.SIGNAL, text=f"handoff:{purpose}"))


@dataclass(frozen=True)
class Pages:
    """Shared by every page handler."""

    tokens: TokenLookup
    catalogs: Catalogs
    clock: Clock
    common: CommonPasswords
    csrf: Csrf
    backend: HandoffBackend | None = None

    async def usable_token(self, raw: str, purpose: str) -> TokenInfo | None:
        info = await self.tokens.get_token(token_hash(raw))
        if info is None or info.purpose != purpose or not info.usable(self.clock()):
            return None
        return info

    async def locale_of(self, raw: str, request: web.Request) -> str:
        """The language of a link's pages: the token's (used or expired too), else the
        browser's for a link we do not know."""
        info = await self.tokens.get_token(token_hash(raw))
        return (
            info.locale if info is not None else negotiate(request.headers.get("Accept-Language"))
        )

    async def step_for(self, token: TokenInfo) -> Handoff | None:
        """The issuing step (None: the conversation moved on). Without a back end (a
        read-only page) the flow cannot be read: the defaults apply."""
        if self.backend is None:
            return None
        return await self.backend.steps(token)

    async def login_for(self, token: TokenInfo) -> str | None:
        """The account's login (see :meth:`ConversationSteps.login`), if the flow has one."""
        if self.backend is None:
            return None
        return await self.backend.steps.login(token)
