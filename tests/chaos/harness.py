"""The chaos harness: real processes on loopback, driven from outside (see ``__init__``).

Everything here talks to the bot as the world does: the ``onboard`` CLI in a subprocess with
its settings in the environment, Telegram's webhook POSTs (secret header, retried until 200),
the Bot API server it calls (``tests/fakebotapi.py`` over HTTP) and an SMTP server
(aiosmtpd) that receives the code mails. Only the audit of applied updates reads the
conversation state the bot left in the test's own Redis.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import random
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp
import asyncpg
import pytest
import yaml
from aiohttp import web
from redis.asyncio import Redis

from tests.delivery.servers import Mailbox, smtp_server
from tests.fakebotapi import JSON, FakeBotApi

ONBOARD = Path(sys.executable).with_name("onboard")  # the installed console script
NEEDS_REDIS_SERVER = pytest.mark.skipif(
    shutil.which("redis-server") is None,
    reason="redis-server is not on PATH: the test starts (and stops) a Redis of its own",
)

PG_ADMIN_DSN = os.environ.get("TEST_PG_ADMIN_DSN", "postgresql://postgres@127.0.0.1:5432/test")
TOKEN = "7000000002:CHAOSchaosCHAOSchaosCHAOSchaosCHAOSch"
WEBHOOK_SECRET = "chaos-webhook-secret"
WEBHOOK_PATH = "/telegram/webhook"
FIRST_USER = 610_000_000

CUSTOMERS = 30
STEP_TIMEOUT = 45.0  # a customer waits this long for the replies to an update, then gives up
CHAOS_SECONDS = 25.0  # the chaos lasts while the customers walk, at most this long
DEADLINE = 60.0  # after the chaos stops, what is owed must have arrived within this
WRONG_EIK = "12345"
CODE = re.compile(r"\b(\d{4,8})\b")


# -- the customers' data ------------------------------------------------------------------------


def bg_eik(number: int) -> str:
    """A valid 9-digit Bulgarian EIK starting with the 8 digits of ``number``."""
    digits = [int(d) for d in f"{number:08d}"]
    check = sum(d * w for d, w in zip(digits, range(1, 9), strict=True)) % 11
    if check == 10:
        check = sum(d * w for d, w in zip(digits, range(3, 11), strict=True)) % 11
    return f"{number:08d}{check % 10}"


def eik(index: int) -> str:
    return bg_eik(31_000_000 + index)


def email(index: int) -> str:
    return f"chaos{index}@chaos.example.com"


def write_crm(path: Path, customers: int) -> Path:
    rows = [
        {
            "tax_id": eik(i),
            "scheme": "bg_eik",
            "name": f"Chaos {i} Ltd.",
            "emails": [email(i)],
            "flags": {"active_subscription": True},
        }
        for i in range(customers)
    ]
    path.write_text(yaml.safe_dump({"customers": rows}), encoding="utf-8")
    return path


# -- what the bot sends, told apart by what a customer sees ---------------------------------------

# The walk (bench/customers.py): /start, a wrong EIK, the EIK, the e-mail, "send a new code" (too
# early: a wait notice), the PIN from the mail. Each update owes these replies, in this order.
STEPS = ("start", "wrong_eik", "eik", "email", "resend", "pin")
OWED: dict[str, tuple[str, ...]] = {
    "start": ("intro", "notice", "ask_eik"),
    "wrong_eik": ("eik_invalid",),
    "eik": ("ask_email",),
    "email": ("code_prompt",),
    "resend": ("wait_notice",),
    "pin": ("link",),
}
REPLIES = tuple(kind for step in STEPS for kind in OWED[step])


def buttons(message: JSON) -> list[JSON]:
    markup = message.get("reply_markup") or {}
    return [b for row in markup.get("inline_keyboard", []) for b in row]


def kind_of(message: JSON) -> str:
    """Which of the walk's replies ``message`` is: by shape (its buttons), else by the bg
    flow's English texts (the customers write with ``language_code`` en). What matches none
    is ``other`` (e.g. "something went wrong, your answers are kept"), counted apart."""
    text = str(message.get("text", "")).lower()
    keys = buttons(message)
    if len(keys) == 1 and ("url" in keys[0] or "web_app" in keys[0]):
        return "link"
    if "step 2 of" in text or (len(keys) >= 2 and "code" in text):
        return "code_prompt"
    for kind, pattern in KINDS:
        if re.search(pattern, text):
            return kind
    return "other"


KINDS = (
    ("notice", r"before we start"),  # the privacy notice (issue 20)
    ("intro", r"welcome"),
    ("ask_eik", r"step 1 of"),
    ("eik_invalid", r"check digit|digits only"),
    ("ask_email", r"enter the e-mail"),
    ("wait_notice", r"new code in|in \d+ seconds"),
    ("link", r"step 3 of"),
)


# -- servers the test owns ------------------------------------------------------------------------


class ChaosBotApi(FakeBotApi):
    """The fake Bot API, with ``before_answer(method, peer port)`` called on each request
    before it is looked at: when it returns True (it killed the caller), the request is
    dropped unseen, as if the caller had died a moment before sending it."""

    before_answer: Callable[[str, int], bool] | None = None

    async def _handle_method(self, request: web.Request) -> web.Response:
        hook = self.before_answer
        if hook is not None:
            peer = request.transport.get_extra_info("peername") if request.transport else None
            if hook(request.match_info.get("method", ""), int(peer[1]) if peer else 0):
                return web.Response(status=502)  # nobody is left to read it
        return await super()._handle_method(request)


def pid_of_socket(local_port: int, candidates: list[int]) -> int | None:
    """Which of ``candidates`` holds the loopback TCP socket bound to ``local_port`` (the
    client end of a connection to us), from /proc/net/tcp and the processes' fds."""
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with contextlib.suppress(OSError):
            for line in Path(table).read_text(encoding="ascii").splitlines()[1:]:
                fields = line.split()
                if int(fields[1].rsplit(":", 1)[1], 16) == local_port:
                    inodes.add(f"socket:[{fields[9]}]")
    for pid in candidates:
        with contextlib.suppress(OSError):
            for fd in os.listdir(f"/proc/{pid}/fd"):
                with contextlib.suppress(OSError):
                    if os.readlink(f"/proc/{pid}/fd/{fd}") in inodes:
                        return pid
    return None


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def _accepting(port: int) -> bool:
    try:
        _, writer = await asyncio.open_connection("127.0.0.1", port)
    except OSError:
        return False
    writer.close()
    return True


class RedisServer:
    """``redis-server`` with AOF (fsync always) on a free loopback port and a data dir of its
    own, so the test can stop it (SIGTERM) and start it again on the same port and data."""

    def __init__(self, data: Path) -> None:
        self.data = data
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen[bytes] | None = None
        self.restarts = 0

    async def start(self) -> None:
        self.data.mkdir(parents=True, exist_ok=True)
        command = ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1"]
        command += ["--dir", str(self.data), "--appendonly", "yes", "--appendfsync", "always"]
        command += ["--save", "", "--logfile", str(self.data / "redis.log")]
        self.process = subprocess.Popen(command)  # noqa: ASYNC220
        for _ in range(200):
            if await _accepting(self.port):
                return
            await asyncio.sleep(0.05)
        raise RuntimeError(f"redis-server did not start on {self.port}")

    async def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            await asyncio.to_thread(self.process.wait, 30)
        self.process = None

    async def restart(self, down: float) -> None:
        await self.stop()
        await asyncio.sleep(down)
        await self.start()
        self.restarts += 1


@contextlib.asynccontextmanager
async def postgres_database() -> AsyncIterator[tuple[str, str]]:
    """A fresh database on 127.0.0.1:5432: (its name, its SQLAlchemy URL); dropped after."""
    name = f"onboard_chaos_{secrets.token_hex(4)}"
    admin = await asyncpg.connect(PG_ADMIN_DSN)
    await admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield name, f"postgresql+asyncpg://postgres@127.0.0.1:5432/{name}"
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


async def cut_postgres(admin: asyncpg.Connection, name: str, *, busy_within: float) -> int:
    """``pg_terminate_backend`` on every connection to database ``name``: at the first moment
    within ``busy_within`` seconds when one of them is inside a query or a transaction (else
    when the time is up, idle ones then). Returns how many were terminated."""
    deadline = time.monotonic() + busy_within
    while time.monotonic() < deadline:
        busy = await admin.fetchval(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = $1 AND state <> 'idle'"
            " AND pid <> pg_backend_pid()",
            name,
        )
        if busy:
            break
        await asyncio.sleep(0.003)
    rows = await admin.fetch(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
        " WHERE datname = $1 AND pid <> pg_backend_pid()",
        name,
    )
    return sum(1 for row in rows if row[0])


# -- the bot as an operator runs it ---------------------------------------------------------------


@dataclass
class Bot:
    """``onboard run --webhook --workers 2`` in a subprocess, settings in its environment."""

    env: dict[str, str]
    cwd: Path
    workers: int = 2
    process: subprocess.Popen[bytes] | None = None
    log: Path | None = None

    @property
    def port(self) -> int:
        return int(self.env["PORT"])

    def onboard(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(ONBOARD), *args],
            env=self.env,
            cwd=self.cwd,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )

    async def start(self, api: FakeBotApi) -> None:
        self.log = self.cwd / "onboard.log"
        command = [str(ONBOARD), "run", "--webhook", "--workers", str(self.workers)]
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(  # noqa: ASYNC220
                command, env=self.env, cwd=self.cwd, stdout=out, stderr=subprocess.STDOUT
            )
        for _ in range(1200):
            if self.process.poll() is not None:
                raise RuntimeError(f"onboard exited with {self.process.returncode}: {self.tail()}")
            ready = api.webhook.get("url") and len(self.worker_pids()) >= self.workers
            if ready and await _accepting(self.port):
                return
            await asyncio.sleep(0.05)
        raise RuntimeError(f"onboard did not start: {self.tail()}")

    def worker_pids(self) -> list[int]:
        """The supervisor's live children that are workers (not multiprocessing's resource
        tracker, not a killed worker the supervisor has not reaped yet)."""
        if self.process is None:
            return []
        pid = self.process.pid
        try:
            children = Path(f"/proc/{pid}/task/{pid}/children").read_text(encoding="ascii")
        except OSError:
            return []
        workers = []
        for child in (int(p) for p in children.split()):
            try:
                cmdline = Path(f"/proc/{child}/cmdline").read_bytes()
                stat = Path(f"/proc/{child}/stat").read_text(encoding="ascii", errors="replace")
            except OSError:
                continue
            dead = stat.rsplit(")", 1)[-1].split()[:1] in (["Z"], ["X"])  # killed, not reaped
            if not dead and b"resource_tracker" not in cmdline:
                workers.append(child)
        return workers

    async def wait_workers(self, seconds: float = 60) -> None:
        """Until every worker is up again and someone listens on the port."""
        for _ in range(int(seconds * 20)):
            if len(self.worker_pids()) >= self.workers and await _accepting(self.port):
                return
            await asyncio.sleep(0.05)

    async def stop(self) -> int | None:
        if self.process is None:
            return None
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                await asyncio.to_thread(self.process.wait, 40)
            except subprocess.TimeoutExpired:
                for pid in self.worker_pids():
                    with contextlib.suppress(ProcessLookupError):
                        os.kill(pid, signal.SIGKILL)
                self.process.kill()
                await asyncio.to_thread(self.process.wait, 10)
        return self.process.returncode

    def tail(self, lines: int = 40) -> str:
        if self.log is None or not self.log.exists():
            return ""
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])


def bot_env(
    api: FakeBotApi, redis: RedisServer, database_url: str, smtp_port: int
) -> dict[str, str]:
    port = free_port()
    env = {name: os.environ[name] for name in ("PATH", "HOME", "LANG", "TZ") if name in os.environ}
    env.update(
        BOT_TOKEN=api.token,
        TELEGRAM_API_BASE=api.base_url,
        WEBHOOK_URL=f"http://127.0.0.1:{port}{WEBHOOK_PATH}",
        WEBHOOK_SECRET=WEBHOOK_SECRET,
        HOST="127.0.0.1",
        PORT=str(port),
        REDIS_URL=redis.url,
        DATABASE_URL=database_url,
        SECRET_KEY="chaos-secret-key-0123456789abcdef",
        SMTP_HOST="127.0.0.1",
        SMTP_PORT=str(smtp_port),
        SMTP_SECURITY="none",
        MAIL_FROM="onboard@chaos.example.com",
        DEFAULT_FLOW="bg-subscription-portal",
        TELEGRAM_RATE_LIMITS="false",  # the fake Bot API has no limits; keeps the run short
        LOG_LEVEL="WARNING",
        PYTHONUNBUFFERED="1",
    )
    return env


# -- Telegram's side: delivering updates, seeing replies ----------------------------------------


@dataclass
class Telegram:
    """Delivers updates as Telegram does (POST with the secret; anything but 200, or no answer,
    is retried with backoff until 200) and watches what the bot sends through the fake Bot API.
    """

    api: FakeBotApi
    url: str
    session: aiohttp.ClientSession
    posts: int = 0
    retries: int = 0
    statuses: Counter[str] = field(default_factory=Counter)
    in_flight: int = 0

    async def deliver(self, update: JSON) -> None:
        backoff = 0.2
        body = json.dumps(update).encode()
        headers = {
            "Content-Type": "application/json",
            "X-Telegram-Bot-Api-Secret-Token": WEBHOOK_SECRET,
        }
        while True:
            self.posts += 1
            self.in_flight += 1
            try:
                async with self.session.post(
                    self.url, data=body, headers=headers, timeout=aiohttp.ClientTimeout(total=30)
                ) as response:
                    await response.read()
                    status = str(response.status)
            except (aiohttp.ClientError, TimeoutError, OSError) as exc:
                status = type(exc).__name__
            finally:
                self.in_flight -= 1
            self.statuses[status] += 1
            if status == "200":
                return
            self.retries += 1
            await asyncio.sleep(backoff * (0.5 + random.random()))
            backoff = min(backoff * 2, 3.0)

    async def deliver_twice(self, update: JSON) -> None:
        """Every update twice: the copy races the original (maybe on the other worker), as
        when Telegram redelivers an update whose answer was late."""
        await asyncio.gather(self.deliver(update), self.deliver(update))

    def sent(self, chat: int) -> list[JSON]:
        return self.api.sent_messages(chat)


# -- one customer's walk --------------------------------------------------------------------------


@dataclass
class Customer:
    index: int
    kinds: list[str] = field(default_factory=list)  # every reply seen, by kind, in order
    steps_sent: list[str] = field(default_factory=list)
    finished: bool = False
    stuck: str | None = None  # the first step whose reply did not come in time
    at: str = ""  # the step the customer is at (or was, when the walks were cut short)

    @property
    def uid(self) -> int:
        return FIRST_USER + self.index


async def _until(ready: Callable[[], bool], seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if ready():
            return True
        await asyncio.sleep(0.05)
    return ready()


def classify(telegram: Telegram, customer: Customer) -> list[str]:
    kinds = [kind_of(message) for message in telegram.sent(customer.uid)]
    customer.kinds = kinds
    return kinds


async def walk(
    customer: Customer,
    telegram: Telegram,
    mailbox: Mailbox,
    think: random.Random,
) -> None:
    """The bg flow, start to hand-off link. After each update the customer waits for the
    replies it owes (``STEP_TIMEOUT``); without them the customer is stuck and the walk ends
    there (a reply lost after a 200 is never redelivered: Telegram does not retry a 200)."""
    api, uid = telegram.api, customer.uid
    await asyncio.sleep(think.uniform(0, 12))  # the customers arrive over a few seconds
    for step in STEPS:
        customer.at = step
        if step == "resend":
            data = _resend_data(telegram, uid)
            if data is None:
                customer.stuck = step
                return
            update = api.callback(uid, data)
        elif step == "pin":
            code = await _code(mailbox, email(customer.index), STEP_TIMEOUT)
            if code is None:
                customer.stuck = "mail"
                return
            update = api.text(uid, code)
        elif step == "start":
            update = api.command(uid, "/start")
        else:
            text = {
                "wrong_eik": WRONG_EIK,
                "eik": eik(customer.index),
                "email": email(customer.index),
            }
            update = api.text(uid, text[step])
        customer.steps_sent.append(step)
        await telegram.deliver_twice(update)
        owed = {kind for s in customer.steps_sent for kind in OWED[s]}
        if not await _until(lambda: owed <= set(classify(telegram, customer)), STEP_TIMEOUT):  # noqa: B023 - awaited here
            customer.stuck = step  # in silence: a real customer does not know what to type
            return
        await asyncio.sleep(think.uniform(0.3, 1.5))
    customer.finished = True


def _resend_data(telegram: Telegram, uid: int) -> str | None:
    for message in reversed(telegram.sent(uid)):
        keys = [k for k in buttons(message) if "callback_data" in k]
        if len(keys) >= 2:
            return str(keys[0]["callback_data"])
    return None


def mails_to(mailbox: Mailbox, address: str) -> list[str]:
    """The codes of the mails received for ``address``, one per mail."""
    codes = []
    for mail, (_, recipients) in zip(mailbox.mails, mailbox.envelopes, strict=False):
        if address in recipients:
            plain = mail.get_body(("plain",))
            match = CODE.search(str(plain.get_content()) if plain is not None else "")
            codes.append(match.group(1) if match else "")
    return codes


async def _code(mailbox: Mailbox, address: str, seconds: float) -> str | None:
    await _until(lambda: bool(mails_to(mailbox, address)), seconds)
    codes = mails_to(mailbox, address)
    return codes[-1] if codes else None


# -- the audit ------------------------------------------------------------------------------------


async def conversation_states(redis_url: str) -> dict[int, JSON]:
    """The conversation state the bot left in Redis, per chat: every hash whose key names the
    chat and holds a JSON ``d`` (the dialog's data). Read once, after the bot stopped."""
    client: Redis = Redis.from_url(redis_url)
    states: dict[int, JSON] = {}
    try:
        async for key in client.scan_iter(count=1000):
            name = key.decode(errors="replace")
            ids = [int(n) for n in re.findall(r"\d+", name)]
            chat = next((n for n in ids if FIRST_USER <= n < FIRST_USER + 1_000_000), None)
            if chat is None or await client.type(key) != b"hash":
                continue
            fields = await client.hgetall(key)
            raw = fields.get(b"d")
            if raw is None:
                continue
            with contextlib.suppress(ValueError):
                data = json.loads(raw)
                if isinstance(data, dict):
                    states[chat] = {"d": data, "v": fields.get(b"v", b"").decode()}
    finally:
        await client.aclose()
    return states


def invalid_attempts(state: JSON) -> int:
    """The dialog's invalid attempts, summed over its steps (``attempts`` in its data)."""
    attempts = state.get("d", {}).get("attempts") or {}
    return (
        sum(n for n in attempts.values() if isinstance(n, int)) if isinstance(attempts, dict) else 0
    )


@dataclass
class Tally:
    scenario: str
    customers: int = 0
    updates_sent: int = 0
    applied: int = 0
    lost: int = 0
    applied_twice: int = 0
    versioned: int = 0  # conversations whose applied turns were read from the state's version
    replies_owed: int = 0
    replies_delivered: int = 0
    replies_duplicated: int = 0
    other_replies: int = 0
    mails_owed: int = 0
    mails_delivered: int = 0
    mails_duplicated: int = 0
    unfinished: int = 0
    chaos: str = ""
    webhook: str = ""
    details: list[str] = field(default_factory=list)

    def lines(self) -> list[str]:
        return [
            f"chaos [{self.scenario}] {self.chaos}",
            f"  customers {self.customers}, unfinished {self.unfinished};"
            f" webhook answers {self.webhook}",
            f"  updates: sent {self.updates_sent}, applied {self.applied}, lost {self.lost},"
            f" applied twice {self.applied_twice}"
            f" (turns read from the state of {self.versioned} conversations)",
            f"  replies: owed {self.replies_owed}, delivered {self.replies_delivered},"
            f" duplicated {self.replies_duplicated}, other (errors) {self.other_replies}",
            f"  mails: owed {self.mails_owed}, delivered {self.mails_delivered},"
            f" duplicated {self.mails_duplicated}",
            *(f"  - {line}" for line in self.details[:25]),
            *([f"  - … and {len(self.details) - 25} more"] if len(self.details) > 25 else []),
        ]

    def problems(self) -> list[str]:
        wrong = []
        if self.lost:
            wrong.append(f"{self.lost} updates lost")
        if self.applied_twice:
            wrong.append(f"{self.applied_twice} updates applied twice")
        if self.replies_delivered < self.replies_owed:
            wrong.append(f"{self.replies_owed - self.replies_delivered} replies lost")
        if self.mails_delivered < self.mails_owed:
            wrong.append(f"{self.mails_owed - self.mails_delivered} mails lost")
        if self.unfinished:
            wrong.append(f"{self.unfinished} customers did not reach the hand-off link")
        return wrong


def audit(
    scenario: str,
    customers: list[Customer],
    telegram: Telegram,
    mailbox: Mailbox,
    states: dict[int, JSON],
) -> Tally:
    tally = Tally(scenario, customers=len(customers))
    tally.webhook = ", ".join(f"{k}: {v}" for k, v in sorted(telegram.statuses.items()))
    for customer in customers:
        _audit_replies(tally, customer, classify(telegram, customer))
        _audit_mails(tally, customer, mails_to(mailbox, email(customer.index)))
        _audit_state(tally, customer, states.get(customer.uid))
    return tally


def _audit_replies(tally: Tally, customer: Customer, kinds: list[str]) -> None:
    seen = Counter(kinds)
    owed = [kind for step in customer.steps_sent for kind in OWED[step]]
    tally.updates_sent += len(customer.steps_sent)
    tally.replies_owed += len(owed)
    tally.replies_delivered += sum(1 for kind in owed if seen[kind])
    tally.replies_duplicated += sum(max(0, seen[kind] - 1) for kind in owed)
    tally.other_replies += sum(n for kind, n in seen.items() if kind not in owed)
    for step in customer.steps_sent:
        missing = [kind for kind in OWED[step] if not seen[kind]]
        if len(missing) == len(OWED[step]):
            tally.lost += 1
            tally.details.append(f"customer {customer.index}: no reply to {step!r}")
        elif missing:
            tally.details.append(f"customer {customer.index}: {step!r} never sent {missing}")
    if "link" not in seen:
        tally.unfinished += 1
        tally.details.append(
            f"customer {customer.index}: stuck at {customer.stuck or customer.at!r}"
        )
    if seen["other"]:
        tally.details.append(f"customer {customer.index}: {seen['other']} other replies")


def _audit_mails(tally: Tally, customer: Customer, codes: list[str]) -> None:
    """One code mail is owed once the e-mail was sent (the early "send a new code" is refused
    with a wait notice: no second mail). Two different codes: an update applied twice."""
    if "email" in customer.steps_sent:
        tally.mails_owed += 1
        tally.mails_delivered += min(1, len(codes))
    tally.mails_duplicated += len(codes) - len(set(codes))
    if len(set(codes)) > 1:
        tally.applied_twice += 1
        tally.details.insert(0, f"customer {customer.index}: {len(set(codes))} different codes")


def _audit_state(tally: Tally, customer: Customer, state: JSON | None) -> None:
    """The state's version counts the turns applied to the conversation; an invalid-attempt
    count above the one wrong EIK sent is a wrong input applied twice (or a redelivered e-mail
    taken as a wrong code)."""
    sent = len(customer.steps_sent)
    version = str((state or {}).get("v", ""))
    if version.isdigit():
        applied = int(version)
        tally.versioned += 1
        tally.applied += min(applied, sent)
        if applied > sent:
            tally.applied_twice += applied - sent
            tally.details.insert(
                0, f"customer {customer.index}: {applied} turns for {sent} updates"
            )
    else:  # no readable version: an update counts as applied when a reply to it came
        tally.applied += sum(
            1 for s in customer.steps_sent if any(k in customer.kinds for k in OWED[s])
        )
    attempts = invalid_attempts(state or {})
    wrong = customer.steps_sent.count("wrong_eik")
    if attempts > wrong:
        tally.applied_twice += attempts - wrong
        tally.details.insert(
            0, f"customer {customer.index}: {attempts} invalid attempts, {wrong} wrong sent"
        )


# -- the scenario runner --------------------------------------------------------------------------

Chaos = Callable[["Scene", asyncio.Event], Awaitable[str]]


@dataclass
class Scene:
    tmp: Path
    api: ChaosBotApi
    redis: RedisServer
    database: str
    bot: Bot
    telegram: Telegram
    mailbox: Mailbox


@dataclass
class Stage:
    """What the multi-process tests run against, all on loopback and all their own."""

    redis: RedisServer
    database: str  # the PostgreSQL database's name
    database_url: str
    api: ChaosBotApi
    mailbox: Mailbox
    session: aiohttp.ClientSession


@contextlib.asynccontextmanager
async def stage(tmp: Path) -> AsyncIterator[Stage]:
    """A Redis of the test's own (under ``tmp``, removed afterwards), a PostgreSQL database,
    the Bot API server, an SMTP server and an HTTP session for the webhook posts."""
    redis = RedisServer(tmp / "redis")
    await redis.start()
    try:
        async with (
            postgres_database() as (database, database_url),
            ChaosBotApi(token=TOKEN) as api,
            smtp_server(Mailbox()) as mailbox,
            aiohttp.ClientSession() as session,
        ):
            yield Stage(redis, database, database_url, api, mailbox, session)
    finally:
        await redis.stop()
        shutil.rmtree(tmp / "redis", ignore_errors=True)


async def run_scenario(name: str, tmp: Path, chaos: Chaos, customers: int = CUSTOMERS) -> Tally:
    """``customers`` walk the bg flow through ``onboard run --webhook --workers 2`` while
    ``chaos`` runs (until every walk has ended); then what is owed gets ``DEADLINE`` seconds to
    arrive, the bot is stopped, and the counts are printed and returned."""
    async with stage(tmp) as on:
        env = bot_env(on.api, on.redis, on.database_url, on.mailbox.port)
        bot = Bot(env, tmp)
        loaded = bot.onboard("crm", "load", str(write_crm(tmp / "crm.yaml", customers)))
        assert loaded.returncode == 0, loaded.stdout + loaded.stderr
        await bot.start(on.api)
        telegram = Telegram(on.api, env["WEBHOOK_URL"], on.session)
        scene = Scene(tmp, on.api, on.redis, on.database, bot, telegram, on.mailbox)
        try:
            return await _drive(name, scene, chaos, customers)
        finally:
            await bot.stop()


async def _drive(name: str, scene: Scene, chaos: Chaos, count: int) -> Tally:
    telegram, mailbox = scene.telegram, scene.mailbox
    people = [Customer(i) for i in range(count)]
    think = random.Random(14)
    walks = asyncio.ensure_future(
        asyncio.gather(*(walk(c, telegram, mailbox, think) for c in people))
    )
    done = asyncio.Event()
    chaos_task = asyncio.create_task(chaos(scene, done))
    try:
        await asyncio.wait({walks}, timeout=CHAOS_SECONDS)
    finally:
        done.set()
        summary = await chaos_task
    # From the end of the chaos, what is owed gets DEADLINE seconds to arrive; a customer
    # still waiting then is left where they are.
    deadline = time.monotonic() + DEADLINE
    await asyncio.wait({walks}, timeout=DEADLINE)
    walks.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await walks
    await _until(
        lambda: all(_settled(c, telegram, mailbox) for c in people),
        max(0.0, deadline - time.monotonic()),
    )
    stopping = time.monotonic()
    code = await scene.bot.stop()
    stopped = time.monotonic() - stopping
    states = await conversation_states(scene.redis.url)
    tally = audit(name, people, telegram, mailbox, states)
    tally.chaos = summary + f"; SIGTERM: onboard exit {code} after {stopped:.1f} s"
    for line in tally.lines():
        print(line)
    if tally.problems():
        print(f"chaos [{name}] onboard log tail:\n{scene.bot.tail(15)}")
    return tally


def _settled(customer: Customer, telegram: Telegram, mailbox: Mailbox) -> bool:
    seen = set(classify(telegram, customer))
    owed = {kind for step in customer.steps_sent for kind in OWED[step]}
    mail_ok = "email" not in customer.steps_sent or bool(mails_to(mailbox, email(customer.index)))
    return owed <= seen and mail_ok
