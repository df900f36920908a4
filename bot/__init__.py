"""Telegram transport, web pages, delivery, settings, CLI and the composition root."""
