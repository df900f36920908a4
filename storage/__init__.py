"""Conversation-state stores (Redis, embedded SQL) and the record stores (SQL)."""
