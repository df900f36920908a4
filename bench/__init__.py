"""The performance benchmark (run by hand: ``.venv/bin/python -m bench``; never a timed test)."""
