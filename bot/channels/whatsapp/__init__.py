"""WhatsApp (Meta's Cloud API) as a channel beside Telegram, on the same engine and flows.

::

    api.py       GraphClient: the Graph API calls we make (messages, media), errors mapped
    errors.py    the channel's exception tree
    parse.py     a webhook POST's JSON -> neutral events, statuses and refusals
    webhook.py   the aiohttp handlers: GET handshake, signed POSTs, applying the events
    render.py    neutral replies -> Cloud API message payloads (buttons, lists, CTA links)
    format.py    our HTML subset -> WhatsApp's *bold* / _italic_ formatting
    window.py    the 24-hour customer-service window, numbered menus, what was sent
    sender.py    the Channel: a turn's replies paced, the window, template fallback, retries
    tickets.py   a WhatsApp customer as the agents' group needs them (bot/support/crossing.py)
    settings.py  WHATSAPP_* settings (a part of bot.config.Settings)
    setup.py     the parts, built from the settings for the composition root (bot/app.py)
"""
