"""The hand-off pages: set a password, set a service PIN, and the portal's redeem endpoint.

Each page module holds its handlers; :mod:`bot.web.pages.layout` the HTML,
:mod:`bot.web.pages.guard` CSRF and rate limits, :mod:`bot.web.pages.context` the token → step
→ back end look-ups. Assembled into one aiohttp application by
:func:`bot.web.server.create_web_app`.
"""
