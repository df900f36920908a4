"""Counting every Bot API call (``onboard_bot_api_calls_total{method,status}``) at the HTTP
request object, below python-telegram-bot: whatever calls the API (the transport, the support
group, start-up) is counted, and the transport itself is left alone.

The label is the method, the last segment of the URL; the rest of the URL (it holds the bot
token) is never looked at again.
"""

from __future__ import annotations

from typing import Any

from telegram.request import BaseRequest, RequestData

from bot.ops import metrics


class MeteredRequest(BaseRequest):
    """Wraps a :class:`BaseRequest` (``HTTPXRequest``, the benchmark's in-process API)."""

    def __init__(self, inner: BaseRequest) -> None:
        self.inner = inner

    @property
    def read_timeout(self) -> float | None:
        return self.inner.read_timeout

    async def initialize(self) -> None:
        await self.inner.initialize()

    async def shutdown(self) -> None:
        await self.inner.shutdown()

    async def do_request(  # noqa: PLR0917 - BaseRequest's signature
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: Any = BaseRequest.DEFAULT_NONE,
        write_timeout: Any = BaseRequest.DEFAULT_NONE,
        connect_timeout: Any = BaseRequest.DEFAULT_NONE,
        pool_timeout: Any = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        endpoint = url.rsplit("/", 1)[-1]
        try:
            code, payload = await self.inner.do_request(
                url,
                method,
                request_data,
                read_timeout=read_timeout,
                write_timeout=write_timeout,
                connect_timeout=connect_timeout,
                pool_timeout=pool_timeout,
            )
        except Exception:
            metrics.bot_api_call(endpoint, "error")
            raise
        metrics.bot_api_call(endpoint, str(code))
        return code, payload


def metered(request: BaseRequest) -> MeteredRequest:
    return request if isinstance(request, MeteredRequest) else MeteredRequest(request)
