"""What the support desk says: to the customer (their language) and to the agents (theirs)."""

from __future__ import annotations

from dialogs.i18n import N_, NN_

CALLBACK_WITHIN = 2 * 86_400  # seed 001: the company calls back within 2 days

FILED = N_(
    "Your ticket #{number} “{title}” is filed. Our support team will answer you here. "
    "Anything you send now is added to the ticket."
)
SENT = N_("Added to ticket #{number}.")
NOT_PASSED_ON = N_(
    "Your message is kept in ticket #{number}, but it could not be passed on to our support "
    "team right now. Please send it again in a few minutes."
)
CC_ADDED = N_("Added to the CC list of ticket #{number}: {emails}.")
AGENT_REPLY = N_(
    "Our support team answered your ticket #{number} “{title}”:\n\n{text}\n\n"
    "To answer, open the ticket with /tickets."
)
CC_SUBJECT = N_("Ticket #{number}: {title}")
CC_BODY = N_(
    "Our support team answered ticket #{number} “{title}”, on which you are in copy:\n\n"
    "{text}\n\nPlease do not reply to this e-mail; the customer answers in the chat."
)
CC_FILES_BODY = N_(
    "Our support team sent {files} to the customer's chat on ticket #{number} “{title}”, on "
    "which you are in copy: {names}.\n\nPlease do not reply to this e-mail; the customer "
    "answers in the chat."
)
CC_FILES = NN_("a file", "{count} files")
AGENT_FILE = N_("Our support team sent this for your ticket #{number}.")
CLOSED_BY_AGENT = N_(
    "Our support team closed your ticket #{number} “{title}”. If something is still not "
    "right, you can reopen it from /tickets."
)
REOPENED_BY_AGENT = N_("Our support team reopened your ticket #{number} “{title}”.")
HELP_TITLE = N_("Request for a person")
CALLBACK_TITLE = N_("Please call me back")
# -- said in the agents' group, in SUPPORT_LOCALE
GROUP_CLOSED = N_("Ticket #{number} closed by {name}; the customer was told.")
GROUP_REOPENED = N_("Ticket #{number} reopened by {name}; the customer was told.")
GROUP_CUSTOMER_CLOSED = N_("The customer closed ticket #{number}.")
GROUP_CUSTOMER_REOPENED = N_("The customer reopened ticket #{number}.")
GROUP_CC = N_("CC of ticket #{number} is now: {emails}")
GROUP_CUSTOMER = N_("Customer")
GROUP_ERASED = N_(
    "Ticket #{number} was erased at the customer's request (/forget): its content and the "
    "customer's identity are deleted, and answers can no longer reach them."
)
GROUP_ALREADY_CLOSED = N_("Ticket #{number} is already closed.")
GROUP_ALREADY_OPEN = N_("Ticket #{number} is already open.")
GROUP_NO_TICKET = N_(
    "This topic or message belongs to no ticket, so /{command} did nothing. Send it in the "
    "ticket's topic or as a reply to its card."
)
GROUP_FILE_NOT_DELIVERED = N_(
    "The file could not be delivered to the customer of ticket #{number}. Please send it again."
)
GROUP_ANSWER_NOT_DELIVERED = N_(
    "The answer could not be delivered to the customer of ticket #{number}. Please send it again."
)
CAPTION_LIMIT = 1024  # Telegram's limit for a media caption
AGENT_COMMANDS = ("close", "reopen")
