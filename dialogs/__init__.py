"""The dialog engine: neutral events in, neutral replies out. Knows nothing of Telegram."""
