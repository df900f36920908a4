"""The terminal chat as a new user meets it (``onboard chat`` piped, a real subprocess): buttons
that stay valid, no log lines between the chat's lines, each development mail printed once,
links that follow PORT, and the README's de example without BOT_USERNAME."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from tests.test_cli_errors import ONBOARD, environment
from tests.test_run_entry_point import free_port

pytestmark = pytest.mark.cli

LOG_LINE = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d+ (DEBUG|INFO|WARNING|ERROR) ")
BG_TO_CODE = "175074752\ndemo@example.com\n"


def chat(tmp_path: Path, lines: str, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [ONBOARD, "chat", *args],
        input=lines,
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=environment(tmp_path, **{"PORT": str(free_port()), **env}),
        timeout=120,
        check=False,
    )


def test_buttons_stay_valid_after_a_reply_without_buttons(tmp_path: Path) -> None:
    """A wrong code is answered without buttons; "1" then still means "Send a new code"."""
    result = chat(tmp_path, BG_TO_CODE + "000000\n1\nsend a new code\n", "--demo", "--fresh")
    assert result.returncode == 0, result.stderr
    after_wrong = result.stdout.split("That code is not right.", 1)[1]
    assert after_wrong.count("You can ask for a new code in") == 2  # "1" and the label
    assert "That code is not right" not in after_wrong  # neither was taken as a code


def test_logs_stay_out_of_the_chat_and_a_mail_is_printed_once(tmp_path: Path) -> None:
    result = chat(tmp_path, BG_TO_CODE, "--demo", "--fresh", LOG_LEVEL="DEBUG")
    assert result.returncode == 0, result.stderr
    assert not [line for line in result.stdout.splitlines() if LOG_LINE.match(line)]
    assert not re.search(r" (DEBUG|INFO) ", result.stderr), result.stderr
    (mail,) = re.findall(r"^\[development email to demo@example\.com\] (.*)$", result.stdout, re.M)
    assert mail == "Subject: Your PIN"  # the bg flow calls its code a PIN (mail_subject)
    codes = re.findall(r"^    .*\b(\d{6})\b", result.stdout, re.M)
    assert len(codes) == 1
    assert result.stdout.count(codes[0]) == 1


def test_links_follow_port_when_public_url_is_unset(tmp_path: Path) -> None:
    port = free_port()
    first = chat(tmp_path, BG_TO_CODE, "--demo", "--fresh", PORT=str(port))
    (code,) = re.findall(r"^    .*\b(\d{6})\b", first.stdout, re.M)
    second = chat(tmp_path, f"{code}\n", PORT=str(port))
    assert f"→ http://127.0.0.1:{port}/password/" in second.stdout, second.stdout


def test_the_readme_de_example_works_without_bot_username(tmp_path: Path) -> None:
    subprocess.run(
        [ONBOARD, "crm", "load", str(Path(__file__).parent.parent / "demo" / "crm.yaml")],
        cwd=tmp_path,
        env=environment(tmp_path),
        check=True,
        capture_output=True,
    )
    invited = subprocess.run(
        [ONBOARD, "invite", "de-video-consultation", "--contract", "DE-PRAXIS-01"],
        cwd=tmp_path,
        env=environment(tmp_path),
        capture_output=True,
        text=True,
        check=False,
    )
    assert invited.returncode == 0, invited.stderr
    link, _valid, hint = invited.stdout.splitlines()
    token = re.fullmatch(r"https://t\.me/<BOT_USERNAME>\?start=([A-Za-z0-9_-]{32})", link)
    assert token is not None, link
    assert f"send /start {token.group(1)} to the bot" in hint
    result = chat(tmp_path, f"/start {token.group(1)}\n")
    assert result.returncode == 0, result.stderr
    assert "Benutzername" in result.stdout or "user name" in result.stdout, result.stdout
