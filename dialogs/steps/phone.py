"""The phone step: Telegram's "share my number" button, or the number typed."""

from __future__ import annotations

from dialogs.events import Event, EventKind
from dialogs.i18n import N_
from dialogs.replies import Button, ButtonKind, Text
from dialogs.steps.base import Message, Step, StepOptions, Target, register
from dialogs.turn import Turn
from dialogs.validators import Invalid, display_phone, is_mobile, phone

SHARE = N_("Share my phone number")
NOT_YOURS = N_(
    "That is someone else's contact. Please share your own number with the button below, "
    "or type it."
)
GOT_IT = N_("Thank you. Your number is {phone}.")
INVALID = N_(
    "That is not a phone number we can use. Please send it in full, for example {example}."
)


@register
class Phone(Step):
    kind = "phone"

    class Options(StepOptions):
        text: Message
        region: str | None = None
        example: str = "+359 88 123 4567"
        invalid: Message = INVALID
        not_yours: Message = NOT_YOURS
        mobile: bool = False  # only mobile numbers (an SMS code goes there), seed 002
        save_as: str | None = None
        next: Target

    options: Options

    def prompt(self, turn: Turn) -> None:
        share = Button(Text(SHARE), ButtonKind.CONTACT)
        turn.say(turn.text(self.options.text), (share,))

    async def handle(self, turn: Turn, event: Event) -> str | None:
        verified = False
        if event.kind is EventKind.CONTACT and event.contact is not None:
            if event.contact.user_id is None or event.contact.user_id != event.sender_id:
                turn.say(turn.text(self.options.not_yours))
                return None
            raw, verified = event.contact.phone, True
        elif event.kind is EventKind.TEXT:
            raw = event.text
        else:
            self.prompt(turn)
            return None
        try:
            number = phone(
                raw if not verified or raw.startswith("+") else f"+{raw}", self.options.region
            )
            if self.options.mobile and not is_mobile(number):
                raise Invalid("not a mobile number")
        except Invalid:
            turn.say(turn.text(self.options.invalid, example=self.options.example))
            return None
        key = self.options.save_as or self.id
        turn.state.answers[key] = number
        if verified:
            turn.state.answers[f"{key}_verified"] = "yes"
        else:
            turn.state.answers.pop(f"{key}_verified", None)
        turn.say(Text(GOT_IT, {"phone": display_phone(number)}), remove_keyboard=True)
        return self.options.next
