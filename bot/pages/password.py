"""The set-password page: ``GET`` shows the policy with live ticks, ``POST`` re-checks it all,
stores the argon2id hash, burns the token and tells the chat (``handoff:password``)."""

from __future__ import annotations

import json
import logging

from aiohttp import web

from bot.pages.context import Handler, HandoffBackend, Pages
from bot.pages.guard import CSRF_FIELD, minutes_until
from bot.pages.layout import Words, attr, error_list, page, paragraph
from bot.passwords import RULE_MATCH, problems, rules
from dialogs.durations import minutes
from dialogs.i18n import N_, negotiate
from dialogs.replies import Text
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
SAVED_TITLE = N_("Your password is saved")
SAVED = N_("You can close this page and go back to the chat.")
TOO_MANY = N_("Too many attempts. Please wait {minutes} and try again.")
SESSION_LOST = N_("This form has expired. Please open the link from the chat again.")


def invalid(pages: Pages, request: web.Request, locale: str | None = None) -> web.Response:
    words = Words(pages.catalogs, locale or negotiate(request.headers.get("Accept-Language")))
    return page(words, PAGE_TITLE, paragraph(words(LINK_INVALID)), status=410)


def _rules_list(words: Words, policy: PasswordPolicy, pages: Pages) -> str:
    items = [
        f'<li class="rule" data-rule="{attr(rule.id)}">{words.text(rule.text)}</li>'
        for rule in rules(policy, pages.common)
    ]
    items.append(f'<li class="rule" data-rule="match">{words(RULE_MATCH)}</li>')
    return f'<ul class="rules" id="rules" aria-live="polite">{"".join(items)}</ul>'


def _form(words: Words, policy: PasswordPolicy, pages: Pages, csrf_value: str, intro: str) -> str:
    data = {
        "data-min": str(policy.min_length),
        "data-latin": "1" if policy.latin else "0",
        "data-symbols": policy.symbols,
        "data-common": "1" if policy.common else "0",
        "data-list": "/static/common-passwords.txt",
        "data-forbidden": json.dumps(list(policy.forbidden)),
        "data-show": words(SHOW),
        "data-hide": words(HIDE),
    }
    attributes = " ".join(f'{name}="{attr(value)}"' for name, value in data.items())
    field = 'type="password" autocomplete="new-password" autocapitalize="off" spellcheck="false"'
    return (
        f'<form method="post" id="password-form" {attributes}>'
        f'<input type="hidden" name="{CSRF_FIELD}" value="{attr(csrf_value)}">'
        f"{paragraph(words(intro))}{_rules_list(words, policy, pages)}"
        f'<label for="password">{words(NEW_PASSWORD)}</label>'
        f'<input id="password" name="password" {field} required>'
        f'<label for="confirm">{words(REPEAT)}</label>'
        f'<input id="confirm" name="confirm" {field} required>'
        f'<p><button type="button" id="toggle" class="link" hidden>{words(SHOW)}</button></p>'
        f'<p><button type="submit" id="save">{words(SAVE)}</button></p></form>'
    )


async def _policy(pages: Pages, token: TokenInfo) -> PasswordPolicy | None:
    if pages.backend is None:
        return PasswordPolicy()
    step = await pages.step_for(token)
    return None if step is None else step.options.policy


async def _intro(pages: Pages, token: TokenInfo) -> str:
    """The flow names its product ("customer portal", "video consultation")."""
    step = None if pages.backend is None else await pages.step_for(token)
    return PAGE_INTRO if step is None else step.options.page_intro


def _form_page(
    pages: Pages,
    request: web.Request,
    token: TokenInfo,
    policy: PasswordPolicy,
    errors: str = "",
    *,
    intro: str = PAGE_INTRO,
) -> web.Response:
    words = Words(pages.catalogs, token.locale)
    cookie = pages.csrf.cookie_for(request)
    body = errors + _form(words, policy, pages, pages.csrf.field(cookie, token.token_hash), intro)
    status = 422 if errors else 200
    response = page(words, PAGE_TITLE, body, status=status, scripts=("password.js",))
    pages.csrf.set_cookie(response, request, cookie)
    return response


def show(pages: Pages) -> Handler:
    async def handle(request: web.Request) -> web.Response:
        token = await pages.usable_token(request.match_info["token"], PURPOSE)
        policy = None if token is None else await _policy(pages, token)
        if token is None or policy is None:
            return invalid(pages, request, token.locale if token else None)
        return _form_page(pages, request, token, policy, intro=await _intro(pages, token))

    return handle


def submit(pages: Pages, backend: HandoffBackend) -> Handler:
    async def handle(request: web.Request) -> web.Response:
        raw = request.match_info["token"]
        hashed = token_hash(raw)
        wait = await backend.throttle.wait(request, hashed, pages.clock())
        if wait:
            return too_many(pages, request, wait)
        form = await request.post()
        token = await pages.usable_token(raw, PURPOSE)
        policy = None if token is None else await _policy(pages, token)
        if token is None or policy is None:
            return invalid(pages, request, token.locale if token else None)
        words = Words(pages.catalogs, token.locale)
        if not pages.csrf.valid(request, str(form.get(CSRF_FIELD, "")), hashed):
            return page(words, PAGE_TITLE, paragraph(words(SESSION_LOST)), status=403)
        password, repeated = str(form.get("password", "")), str(form.get("confirm", ""))
        failed = problems(policy, pages.common, password, repeated)
        if failed:
            listed = error_list(words(REFUSED), [words.text(text) for text in failed])
            intro = await _intro(pages, token)
            return _form_page(pages, request, token, policy, listed, intro=intro)
        return await _store(pages, backend, request, token, password)

    return handle


async def _store(
    pages: Pages, backend: HandoffBackend, request: web.Request, token: TokenInfo, password: str
) -> web.Response:
    words = Words(pages.catalogs, token.locale)
    digest = backend.hasher.hash(password)
    spent = await backend.accounts.set_password(token.token_hash, PURPOSE, digest, pages.clock())
    if spent is None:  # used or expired between the check and now
        return invalid(pages, request, token.locale)
    try:
        await backend.signal(spent, PURPOSE)
    except Exception:  # the password is stored; the chat catches up on the next message
        log.exception("could not tell conversation %s that the password is set", spent.key)
    return page(words, SAVED_TITLE, paragraph(words(SAVED)))


def too_many(pages: Pages, request: web.Request, wait: float) -> web.Response:
    words = Words(pages.catalogs, negotiate(request.headers.get("Accept-Language")))
    text = words.text(Text(TOO_MANY, {"minutes": minutes(minutes_until(wait))}))
    return page(words, PAGE_TITLE, paragraph(text), status=429)
