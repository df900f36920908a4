"""The de registration's own answers (seed 003): a unique user name, and saving the profile.

The user name is checked against the rules shown to the customer and, through the
:class:`~dialogs.ports.ProfileLookup` read port, against the names already registered. The
profile (user name, edition, 2FA phone, contact-search visibility) is written only after the
turn commits, by the :class:`~dialogs.effects.SaveProfile` effect.
"""

from __future__ import annotations

import re

from pydantic import Field, model_validator

from dialogs.effects import SaveProfile
from dialogs.i18n import N_
from dialogs.replies import Text
from dialogs.steps.base import Message, Step, StepOptions, Target, register, wired
from dialogs.steps.basic import TextAnswer, TextOptions
from dialogs.steps.editions import EDITION_ANSWER
from dialogs.turn import Turn

USERNAME_INVALID = N_(
    "This user name does not follow the rules: {min} to {max} characters, starting with a "
    "letter, then only letters a–z, digits, dot (.), hyphen (-) or underscore (_)."
)
USERNAME_TAKEN = N_("The user name {username} is already taken. Please choose another one.")
USERNAME_LOST = N_(
    "Someone registered the user name {username} a moment before you, so your profile could "
    "not be saved. Please send /human and a person will help you."
)


@register
class Username(TextAnswer):
    kind = "username"

    class Options(TextOptions):
        invalid: Message = USERNAME_INVALID
        taken: Message = USERNAME_TAKEN
        min_length: int = Field(4, ge=2, le=64)
        max_length: int = Field(30, ge=2, le=64)
        save_as: str | None = None
        next: Target

        @model_validator(mode="after")
        def _lengths(self) -> Username.Options:
            if self.min_length > self.max_length:
                raise ValueError("min_length is larger than max_length")
            return self

    options: Options

    def _limits(self) -> dict[str, str | int]:
        return {"min": self.options.min_length, "max": self.options.max_length}

    def prompt(self, turn: Turn) -> None:
        turn.say(turn.text(self.options.text, **self._limits()))

    def valid(self, name: str) -> bool:
        o = self.options
        pattern = rf"[a-z][a-z0-9._-]{{{o.min_length - 1},{o.max_length - 1}}}"
        return re.fullmatch(pattern, name) is not None

    async def answer(self, turn: Turn, text: str) -> str | None:
        name = text.strip().lower()
        if not self.valid(name):
            turn.say(turn.text(self.options.invalid, **self._limits()))
            return None
        profiles = wired(turn.services.profiles, self.id, "the profile store")
        if await profiles.username_taken(name, turn.key):
            turn.say(Text(self.options.taken, {"username": name}))
            return None
        turn.state.answers[self.options.save_as or self.id] = name
        return self.options.next


@register
class SaveProfileStep(Step):
    """Write the profile once the turn commits: the user name, the edition, the 2FA phone
    (only when 2FA was turned on: the code step before it proved the number) and whether the
    customer is visible in the contact search. Options name the answers to take."""

    kind = "save_profile"
    waits = False

    class Options(StepOptions):
        username: str
        two_factor: str | None = None  # the answer that is "yes" when 2FA was turned on
        phone: str | None = None
        visible: str | None = None  # the answer that is "yes" for visible
        next: Target

    options: Options

    async def enter(self, turn: Turn) -> str | None:
        o, answers = self.options, turn.state.answers
        two_factor = o.two_factor is not None and answers.get(o.two_factor) == "yes"
        turn.effects.append(
            SaveProfile(
                key=turn.key,
                customer_id=turn.state.customer_id,
                username=answers[o.username],
                edition=answers.get(EDITION_ANSWER),
                two_factor_phone=answers.get(o.phone) if two_factor and o.phone else None,
                visible=o.visible is not None and answers.get(o.visible) == "yes",
                saved_at=turn.now,
            )
        )
        return o.next
