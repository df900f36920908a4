"""The messaging apps, one package each, behind one small interface (:mod:`bot.channels.base`)."""
