"""The privacy notice (issue 20): said once per conversation, before a flow asks for the first
piece of personal data. A flow places it (``kind: privacy_notice``) and may word it (``text``)
or link its own policy (``url``); otherwise the company's ``PRIVACY_URL`` is linked.

``onboard flows check`` reports a flow whose path from the start reaches a step that collects
personal data without passing a notice (:func:`missing_notice`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from dialogs.durations import days
from dialogs.i18n import N_
from dialogs.replies import Text
from dialogs.steps.base import Message, Step, StepOptions, Target, register
from dialogs.turn import Turn

if TYPE_CHECKING:
    from dialogs.flow import Flow

NOTICE = N_(
    "Before we start: to register you, we use the details you give in this chat (for example "
    "your e-mail address, phone number or tax number) and check them against our customer "
    "records. A finished conversation is deleted after {days}, a ticket some time after it "
    "is closed. Our privacy policy: {url}\n\n"
    "/mydata – what we keep about you\n"
    "/forget – delete it"
)
KIND = "privacy_notice"
COLLECTS = frozenset(
    {
        "ask",
        "phone",
        "username",
        "callback",
        "long_text",
        "collect_files",
        "collect_emails",
    }
)
"""Step kinds that take personal data from the customer."""
SIGNED_IN = frozenset({"ticket_customer"})
"""A flow starting here is for registered customers only: they saw the notice then."""


@register
class PrivacyNotice(Step):
    """Say the notice unless this conversation already saw it, then move straight on."""

    kind = KIND
    waits = False

    class Options(StepOptions):
        text: Message = NOTICE
        url: str | None = None  # this flow's policy; default: PRIVACY_URL
        next: Target

    options: Options

    async def enter(self, turn: Turn) -> str | None:
        if not turn.state.noticed_at:
            services = turn.services
            url = self.options.url or services.privacy_url
            turn.say(
                turn.text(self.options.text, url=url, days=days(services.retain_finished_days))
            )
            turn.state.noticed_at = turn.now
        return self.options.next


def missing_notice(flow: Flow) -> list[str]:
    """The steps collecting personal data that a path from the start reaches before any
    notice (empty: the flow is fine)."""
    if flow.steps[flow.start].kind in SIGNED_IN:
        return []
    seen, todo, found = {flow.start}, [flow.start], []
    while todo:
        step = flow.steps[todo.pop()]
        if step.kind == KIND:
            continue
        if step.kind in COLLECTS:
            found.append(step.id)
            continue
        for _, target in step.targets():
            if target in flow.steps and target not in seen:
                seen.add(target)
                todo.append(target)
    return sorted(found)


def notice(url: str, retain_days: int) -> Text:
    """The default notice as the customer reads it (tests, docs)."""
    return Text(NOTICE, {"url": url, "days": days(retain_days)})
