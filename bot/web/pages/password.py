"""The set-password page: ``GET`` shows the policy with live ticks, ``POST`` re-checks it all,
stores the argon2id hash, burns the token and tells the chat (``handoff:password``)."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass

from aiohttp import web

from bot.web.pages import miniapp
from bot.web.pages.context import Handler, HandoffBackend, Pages
from bot.web.pages.guard import CSRF_FIELD, minutes_until
from bot.web.pages.layout import Errors, Words, message, page
from bot.web.passwords import RULE_MATCH, TOO_LONG, problems, rules
from dialogs.durations import minutes
from dialogs.i18n import N_
from dialogs.replies import Text, say_n
from dialogs.steps.handoff import PAGE_INTRO, PasswordPolicy, token_hash
from storage.records import TokenInfo

log = logging.getLogger(__name__)

PURPOSE = "password"
PAGE_TITLE = N_("Create your password")
LINK_INVALID = N_(
    "This link has expired or has already been used. Go back to the chat and send /start "
    "to get a new link."
)
NEW_PASSWORD = N_("New password")
REPEAT = N_("Type it again")
SHOW = N_("Show password")
HIDE = N_("Hide password")
SAVE = N_("Save my password")
REFUSED = N_("Your password was not saved. These requirements are not met:")
MET = N_("met")
UNMET = N_("not yet met")
SAVED_TITLE = N_("Your password is saved")
SAVED = N_("You can close this page and go back to the chat.")
TOO_MANY = N_("Too many attempts. Please wait {minutes} and try again.")
SESSION_LOST = N_("This form has expired. Please open the link from the chat again.")


async def invalid(pages: Pages, request: web.Request, title: str = PAGE_TITLE) -> web.Response:
    """A used, expired or unknown link: in the token's language, under the page's heading."""
    words = Words(pages.catalogs, await pages.locale_of(request.match_info["token"], request))
    return message(words, title, words(LINK_INVALID), status=410)


def _rules(words: Words, policy: PasswordPolicy, pages: Pages) -> list[dict[str, str]]:
    """Each requirement with its id (its state is also text, for screen readers)."""
    listed = [
        {"id": rule.id, "text": words.text(rule.text)} for rule in rules(policy, pages.common)
    ]
    listed.append({"id": "max", "text": words.text(say_n(TOO_LONG, policy.max_length))})
    listed.append({"id": "match", "text": words(RULE_MATCH)})
    return listed


def _data(words: Words, policy: PasswordPolicy) -> dict[str, str]:
    """What password.js needs to tick the rules as the customer types."""
    return {
        "data-min": str(policy.min_length),
        "data-max": str(policy.max_length),
        "data-latin": "1" if policy.latin else "0",
        "data-symbols": policy.symbols,
        "data-common": "1" if policy.common else "0",
        "data-list": "/static/common-passwords.txt",
        "data-forbidden": json.dumps(list(policy.forbidden)),
        "data-met-label": words(MET),
        "data-unmet-label": words(UNMET),
        "data-show": words(SHOW),
        "data-hide": words(HIDE),
    }


@dataclass(frozen=True, slots=True)
class PageSpec:
    """What the issuing step says about its page: the policy, and the intro that names the
    product (the flow's ``page_intro``; by default the customer portal)."""

    policy: PasswordPolicy
    intro: str = PAGE_INTRO
    username: str | None = None
    """The account's login, in a hidden field so password managers save the pair."""


async def _policy(pages: Pages, token: TokenInfo) -> PageSpec | None:
    if pages.backend is None:
        return PageSpec(PasswordPolicy())
    step = await pages.step_for(token)
    if step is None:
        return None
    return PageSpec(step.options.policy, step.options.page_intro, await pages.login_for(token))


def _form_page(
    pages: Pages,
    request: web.Request,
    token: TokenInfo,
    spec: PageSpec,
    errors: Errors | None = None,
) -> web.Response:
    words = Words(pages.catalogs, token.locale)
    policy = spec.policy
    cookie = pages.csrf.cookie_for(request)
    response = page(
        words,
        PAGE_TITLE,
        "password.html",
        status=422 if errors else 200,
        scripts=("password.js",),
        errors=errors,
        data=_data(words, policy),
        csrf_field=CSRF_FIELD,
        csrf=pages.csrf.field(cookie, token.token_hash),
        intro=words(spec.intro),
        username=spec.username,
        rules=_rules(words, policy, pages),
        unmet=words(UNMET),
        max_length=policy.max_length,
        new_password=words(NEW_PASSWORD),
        repeat=words(REPEAT),
        show=words(SHOW),
        save=words(SAVE),
    )
    pages.csrf.set_cookie(response, request, cookie)
    return response


def show(pages: Pages) -> Handler:
    async def handle(request: web.Request) -> web.Response:
        token = await pages.usable_token(request.match_info["token"], PURPOSE)
        policy = None if token is None else await _policy(pages, token)
        if token is None or policy is None:
            return await invalid(pages, request)
        return _form_page(pages, request, token, policy)

    return handle


def submit(pages: Pages, backend: HandoffBackend) -> Handler:
    async def handle(request: web.Request) -> web.Response:
        raw = request.match_info["token"]
        hashed = token_hash(raw)
        wait = await backend.throttle.wait(request, hashed, pages.clock())
        if wait:
            return await too_many(pages, request, wait)
        form = await request.post()
        token = await pages.usable_token(raw, PURPOSE)
        policy = None if token is None else await _policy(pages, token)
        if token is None or policy is None:
            return await invalid(pages, request)
        words = Words(pages.catalogs, token.locale)
        if not pages.csrf.valid(request, str(form.get(CSRF_FIELD, "")), hashed):
            return message(words, PAGE_TITLE, words(SESSION_LOST), status=403)
        if not backend.signed_in(form, token, pages.clock()):
            return message(words, PAGE_TITLE, words(miniapp.REFUSED), status=403)
        password, repeated = str(form.get("password", "")), str(form.get("confirm", ""))
        failed = problems(policy.policy, pages.common, password, repeated)
        if failed:
            listed = Errors(words(REFUSED), tuple(words.text(text) for text in failed))
            return _form_page(pages, request, token, policy, listed)
        return await _store(pages, backend, request, token, password)

    return handle


async def _store(
    pages: Pages, backend: HandoffBackend, request: web.Request, token: TokenInfo, password: str
) -> web.Response:
    words = Words(pages.catalogs, token.locale)
    digest = backend.hasher.hash(password)
    spent = await backend.accounts.set_password(token.token_hash, PURPOSE, digest, pages.clock())
    if spent is None:  # used or expired between the check and now
        return await invalid(pages, request)
    try:
        await backend.signal(spent, PURPOSE)
    except Exception:  # the password is stored; the chat catches up on the next message
        log.exception("could not tell conversation %s that the password is set", spent.key)
    return message(words, SAVED_TITLE, words(SAVED), done=True)


async def too_many(
    pages: Pages, request: web.Request, wait: float, title: str = PAGE_TITLE
) -> web.Response:
    words = Words(pages.catalogs, await pages.locale_of(request.match_info["token"], request))
    text = words.text(Text(TOO_MANY, {"minutes": minutes(minutes_until(wait))}))
    return message(words, title, text, status=429)
