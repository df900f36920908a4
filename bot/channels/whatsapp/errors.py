"""What can go wrong talking to the Cloud API, as one tree under :class:`DeliveryError`.

::

    DeliveryError (dialogs.errors)
    └── WhatsAppError              the Graph API answered with an error (code, HTTP status)
        ├── WhatsAppRefused        a request it will never accept as it is (400): final
        │   ├── WindowClosed       131047: outside the 24-hour window, only a template may go
        │   └── MediaTooLarge      a file over the size we accept (checked before download)
        ├── WhatsAppRateLimited    131056 (the pair rate) or 130429/80007 (throughput): wait
        ├── WhatsAppAuthError      the token is refused (401, code 190): a setting to fix
        └── WhatsAppUnavailable    no answer, or a 5xx: passing, tried again later

Messages carry the Graph API's error code and title, never the token, a phone number or the
text that was sent: they end up in logs.
"""

from __future__ import annotations

from dialogs.errors import DeliveryError

RE_ENGAGEMENT = 131047
"""More than 24 hours since the customer last wrote: only an approved template may be sent."""
PAIR_RATE_LIMIT = 131056
"""Too many messages from our number to the same customer in a short time."""
THROUGHPUT_LIMITS = frozenset({130429, 80007, 4, 80004})
"""Our number's (or the app's) messages per second were exceeded."""
TOKEN_ERRORS = frozenset({190, 10, 200})


class WhatsAppError(DeliveryError):
    def __init__(self, code: int, title: str, status: int) -> None:
        self.code = code
        self.title = title
        self.status = status
        super().__init__("whatsapp", f"Graph API error {code} (HTTP {status}): {title}")


class WhatsAppRefused(WhatsAppError):
    """The request cannot succeed as it is (a 400 that is not about limits)."""


class WindowClosed(WhatsAppRefused):
    """Error 131047: the customer-service window is closed."""


class MediaTooLarge(WhatsAppRefused):
    """A file over the limit we accept; ``size`` in bytes."""

    def __init__(self, size: int, limit: int) -> None:
        self.size = size
        self.limit = limit
        super().__init__(0, f"file of {size} bytes is over {limit}", 400)


class WhatsAppRateLimited(WhatsAppError):
    """A rate limit was hit; ``pair``: the one for this customer only (131056)."""

    @property
    def pair(self) -> bool:
        return self.code == PAIR_RATE_LIMIT


class WhatsAppAuthError(WhatsAppError):
    """The access token was refused."""


class WhatsAppUnavailable(WhatsAppError):
    """The Graph API did not answer usably (network, timeout, 5xx)."""


def error_for(status: int, code: int, title: str) -> WhatsAppError:
    """The exception for a Graph API error answer."""
    if code == RE_ENGAGEMENT:
        return WindowClosed(code, title, status)
    if code == PAIR_RATE_LIMIT or code in THROUGHPUT_LIMITS or status == 429:
        return WhatsAppRateLimited(code, title, status)
    if status == 401 or (code in TOKEN_ERRORS and status in (400, 403)):
        return WhatsAppAuthError(code, title, status)
    if status >= 500 or status == 0:
        return WhatsAppUnavailable(code, title, status)
    return WhatsAppRefused(code, title, status)
