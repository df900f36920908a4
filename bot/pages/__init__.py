"""The hand-off pages: set a password, set a service PIN, and the portal's redeem endpoint.

Each page module holds its handlers; :mod:`bot.pages.layout` the HTML, :mod:`bot.pages.guard`
CSRF and rate limits, :mod:`bot.pages.context` the token → step → back end look-ups.
Assembled into one aiohttp application by :func:`bot.web.create_web_app`.
"""
