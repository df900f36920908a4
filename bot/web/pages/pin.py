"""The service-PIN pages: choose (or have one generated) → shown once, with copy and
"save as PDF" → tick "I have stored it safely" → the token is burnt, the chat told
(``handoff:pin``). Between the steps only the argon2id hash of the PIN is kept."""

from __future__ import annotations

import logging

from aiohttp import web

from bot.web.pages import miniapp
from bot.web.pages.context import Handler, HandoffBackend, Pages
from bot.web.pages.guard import CSRF_FIELD
from bot.web.pages.layout import Errors, Words, message, page
from bot.web.pages.password import invalid, too_many
from bot.web.pin import PDF_NOTE, PDF_TITLE, generate_pin, pin_pdf, pin_problems
from dialogs.i18n import N_, NN_
from dialogs.replies import say_n
from dialogs.steps.handoff import Handoff, PinPolicy, token_hash
from storage.records import TokenInfo

log = logging.getLogger(__name__)

PURPOSE = "pin"
TITLE = N_("Set your service PIN")
INTRO = NN_(
    "Our support asks for this PIN to confirm it is you. Choose at least {count} digit, "
    "or let us create a PIN for you.",
    "Our support asks for this PIN to confirm it is you. Choose at least {count} digits, "
    "or let us create a PIN for you.",
)
YOUR_PIN = N_("Your PIN")
USE_THIS = N_("Use this PIN")
GENERATE = N_("Create a PIN for me")
REFUSED = N_("This PIN cannot be used:")
SHOWN_ONCE = N_(
    "This is the only time we show your PIN. Copy it or save it as a PDF, and keep it safe."
)
COPY = N_("Copy")
COPIED = N_("Copied")
SAVE_PDF = N_("Save as PDF")
STORED = N_("I have stored my PIN safely")
CONTINUE = N_("Continue")
TICK_FIRST = N_("Please confirm that you have stored your PIN safely.")
DONE_TITLE = N_("Your service PIN is set")
DONE = N_("You can close this page and go back to the chat.")


async def _context(
    pages: Pages, backend: HandoffBackend, raw: str
) -> tuple[TokenInfo, Handoff] | None:
    token = await pages.usable_token(raw, PURPOSE)
    step = None if token is None else await backend.steps(token)
    return None if token is None or step is None else (token, step)


def _choose_page(
    pages: Pages,
    request: web.Request,
    token: TokenInfo,
    policy: PinPolicy,
    errors: Errors | None = None,
) -> web.Response:
    words = Words(pages.catalogs, token.locale)
    cookie = pages.csrf.cookie_for(request)
    response = page(
        words,
        TITLE,
        "pin_choose.html",
        status=422 if errors else 200,
        errors=errors,
        csrf_field=CSRF_FIELD,
        csrf=pages.csrf.field(cookie, token.token_hash),
        intro=words.text(say_n(INTRO, policy.min_digits)),
        your_pin=words(YOUR_PIN),
        max_digits=policy.max_digits,
        use_this=words(USE_THIS),
        generate=words(GENERATE),
    )
    pages.csrf.set_cookie(response, request, cookie)
    return response


def _shown_page(
    pages: Pages, request: web.Request, token: TokenInfo, pin: str, errors: Errors | None = None
) -> web.Response:
    words = Words(pages.catalogs, token.locale)
    cookie = pages.csrf.cookie_for(request)
    response = page(
        words,
        TITLE,
        "pin_shown.html",
        status=422 if errors else 200,
        scripts=("pin.js",),
        errors=errors,
        csrf_field=CSRF_FIELD,
        csrf=pages.csrf.field(cookie, token.token_hash),
        pin=pin,
        base=f"/pin/{request.match_info['token']}",
        shown_once=words(SHOWN_ONCE),
        copy=words(COPY),
        copied=words(COPIED),
        save_pdf=words(SAVE_PDF),
        stored=words(STORED),
        continue_label=words(CONTINUE),
    )
    pages.csrf.set_cookie(response, request, cookie)
    return response


def show(pages: Pages, backend: HandoffBackend) -> Handler:
    async def handle(request: web.Request) -> web.Response:
        found = await _context(pages, backend, request.match_info["token"])
        if found is None:
            return await invalid(pages, request, TITLE)
        token, step = found
        return _choose_page(pages, request, token, step.options.pin)

    return handle


async def _guarded(
    pages: Pages, backend: HandoffBackend, request: web.Request
) -> tuple[TokenInfo, Handoff, dict[str, str]] | web.Response:
    """Throttle, token, conversation and CSRF checks shared by every PIN form."""
    raw = request.match_info["token"]
    wait = await backend.throttle.wait(request, token_hash(raw), pages.clock())
    if wait:
        return await too_many(pages, request, wait, TITLE)
    form = {name: str(value) for name, value in (await request.post()).items()}
    found = await _context(pages, backend, raw)
    if found is None:
        return await invalid(pages, request, TITLE)
    token, step = found
    if not pages.csrf.valid(request, form.get(CSRF_FIELD, ""), token.token_hash):
        return await invalid(pages, request, TITLE)
    if not backend.signed_in(form, token, pages.clock()):
        words = Words(pages.catalogs, token.locale)
        return message(words, TITLE, words(miniapp.REFUSED), status=403)
    return token, step, form


def choose(pages: Pages, backend: HandoffBackend) -> Handler:
    async def handle(request: web.Request) -> web.Response:
        guarded = await _guarded(pages, backend, request)
        if isinstance(guarded, web.Response):
            return guarded
        token, step, form = guarded
        policy = step.options.pin
        pin = form.get("pin", "").strip()
        if form.get("action") == "generate":
            pin = generate_pin(policy)
        failed = pin_problems(policy, pin)
        if failed:
            words = Words(pages.catalogs, token.locale)
            errors = Errors(words(REFUSED), tuple(words.text(text) for text in failed))
            return _choose_page(pages, request, token, policy, errors)
        await backend.accounts.set_pending_pin(token, backend.hasher.hash(pin), pages.clock())
        return _shown_page(pages, request, token, pin)

    return handle


async def _pending_matches(backend: HandoffBackend, token: TokenInfo, pin: str) -> bool:
    account = await backend.accounts.get(token.customer_id, str(token.key))
    stored = None if account is None else account.pending_pin_hash
    return stored is not None and backend.hasher.verify(stored, pin)


def pdf(pages: Pages, backend: HandoffBackend) -> Handler:
    async def handle(request: web.Request) -> web.StreamResponse:
        guarded = await _guarded(pages, backend, request)
        if isinstance(guarded, web.Response):
            return guarded
        token, _, form = guarded
        pin = form.get("pin", "")
        if not await _pending_matches(backend, token, pin):
            return await invalid(pages, request, TITLE)
        title = pages.catalogs.gettext(PDF_TITLE, token.locale)
        document = pin_pdf(pin, title, pages.catalogs.gettext(PDF_NOTE, token.locale))
        return web.Response(
            body=document,
            content_type="application/pdf",
            headers={"Content-Disposition": 'attachment; filename="service-pin.pdf"'},
        )

    return handle


def confirm(pages: Pages, backend: HandoffBackend) -> Handler:
    async def handle(request: web.Request) -> web.Response:
        guarded = await _guarded(pages, backend, request)
        if isinstance(guarded, web.Response):
            return guarded
        token, _, form = guarded
        words = Words(pages.catalogs, token.locale)
        pin = form.get("pin", "")
        if form.get("stored") != "yes":
            if not await _pending_matches(backend, token, pin):
                return await invalid(pages, request, TITLE)
            return _shown_page(pages, request, token, pin, Errors(words(TICK_FIRST)))
        spent = await backend.accounts.confirm_pin(token.token_hash, PURPOSE, pages.clock())
        if spent is None:
            return await invalid(pages, request, TITLE)
        try:
            await backend.signal(spent, PURPOSE)
        except Exception:
            log.exception("could not tell conversation %s that the PIN is set", spent.key)
        return message(words, DONE_TITLE, words(DONE), done=True)

    return handle
