"""Maintainers' tools: the catalog check, the glossary, flow-text extraction and flow diagrams.

Nothing here runs in the bot's request path; ``onboard locales check`` and ``onboard flows
draw`` use it, and so does ``make test``.
"""
