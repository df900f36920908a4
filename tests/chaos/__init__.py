"""Chaos tests (issue 14, pytest marker ``chaos``): exactly-once turns under crashes and outages.

Run them: ``.venv/bin/pytest tests/chaos -m chaos -q -s`` (``-s`` shows the counts of passing
runs too). They need ``redis-server`` on PATH (else skipped, with the reason) and PostgreSQL
on 127.0.0.1:5432 (user postgres, trust; ``TEST_PG_ADMIN_DSN`` as in the other tests).

The set-up is black-box, real processes on loopback only:

* ``onboard run --webhook --workers 2`` — the installed console script next to the test's
  Python, in a subprocess, configured through its environment only (BOT_TOKEN,
  TELEGRAM_API_BASE, WEBHOOK_URL / WEBHOOK_SECRET, PORT, REDIS_URL, DATABASE_URL, SMTP_*; see
  ``harness.bot_env``), the CRM seeded first with ``onboard crm load``;
* a Bot API server (``tests/fakebotapi.py`` over HTTP) that answers what the workers call and
  records every ``sendMessage``: the replies the customers see;
* an SMTP server (aiosmtpd) that receives the code mails: the customers read their PIN there;
* a ``redis-server`` of the test's own (AOF, ``appendfsync always``, a free port and a tmp data
  dir, so it can be stopped with SIGTERM and started again on the same port and data);
* a fresh PostgreSQL database ``onboard_chaos_<random>``, dropped afterwards.

``CUSTOMERS`` (30) customers arrive over 12 s and each walks the bg flow as
``bench/customers.py`` does: /start, a wrong EIK, the right EIK, the e-mail, "send a new code"
(too early: a wait notice, no mail), the PIN from the mail → the password hand-off link.
Updates reach the webhook as Telegram sends them: a POST with the secret header; anything but
200 (or no answer at all) is retried with backoff until 200. **Every update is delivered
twice**: a second copy races the first (perhaps on the other worker), as when Telegram
redelivers. Nothing else is redelivered: after a 200 Telegram never sends the update again, so
a reply lost after a 200 is a loss, not something for the harness to paper over.

While they walk (at most ``CHAOS_SECONDS``), one kind of chaos runs:

(a) ``test_workers_killed_mid_turn``: 5 SIGKILLs of a worker (the supervisor's children; it
    restarts them, at most 5 times a minute), at random moments with updates in flight; every
    other one kills the worker that is about to send a reply (its ``sendMessage`` is dropped
    unseen: it died between the turn's commit and what the turn owes);
(b) ``test_redis_stopped_and_started``: Redis stopped (SIGTERM) for 1–2.5 s, 4 times;
(c) ``test_postgresql_connections_cut``: ``pg_terminate_backend`` on every connection of the
    bot's database every 0.5–1.5 s.

A customer waits ``STEP_TIMEOUT`` (45 s) for the replies an update owes (and as long for the
code mail); without them the customer is stuck and walks no further. When the chaos stops,
what is owed gets ``DEADLINE`` (60 s) more; then the bot is stopped with SIGTERM and counted.

The counts (printed by each test, then asserted):

updates sent
    Distinct updates the customers sent (each delivered twice; retries not counted).
applied
    Per conversation, the turns the state records as applied (the version of the state the
    bot keeps in Redis, capped at the updates sent); where no version is readable, the updates
    that got at least one of their replies.
lost
    Updates none of whose owed replies arrived by the deadline (the customer was left in
    silence). Also asserted: every customer reached the hand-off link ("unfinished").
applied twice
    Turns beyond the updates sent (state version above them), plus invalid attempts in the
    state above the one wrong EIK sent (a wrong input applied again, or a redelivered e-mail
    taken as a wrong code), plus customers mailed more than one different code (a code step
    applied twice; the same code mailed twice is a duplicated mail, not this).
replies owed
    The replies the walk expects for the updates sent: /start → intro + privacy notice + EIK
    question; wrong EIK → "an EIK has 9 or 13 digits…"; EIK → e-mail question; e-mail → code
    prompt (with its buttons); "send a new code" → "you can ask for a new code in N seconds";
    PIN → the hand-off link (a url or web_app button). Told apart by their buttons and English
    texts (``harness.kind_of``).
replies delivered / duplicated
    Owed replies seen at least once by the Bot API server / extra copies of them (allowed, as
    at-least-once delivery may duplicate: counted and printed). Replies that are none of the
    owed ones ("something went wrong…") are printed as "other".
mails owed / delivered / duplicated
    One code mail per customer who sent the e-mail (the early resend owes none) / customers
    whose mail reached the SMTP server / extra copies of the same mail.

Targets (asserted): 0 lost, 0 applied twice, replies delivered = owed, mails delivered = owed,
0 unfinished. The webhook's answers (200, 503, connection errors…) and how long SIGTERM took
are printed too.
"""
