"""The CRM settings: a URL without a token, or a flow list naming unknown flows, is one clear
line (ConfigError) before anything connects; the token is never shown."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.backends import crm_config
from dialogs.errors import ConfigError
from dialogs.flow import FlowRegistry
from tests.conftest import make_settings
from tests.test_cli import onboard

pytestmark = pytest.mark.crm
FLOWS = FlowRegistry.from_directory()


def test_no_url_means_the_local_copy(tmp_path: Path) -> None:
    assert crm_config(make_settings(tmp_path), FLOWS) is None


def test_a_url_needs_a_token(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, crm_lookup_url="https://crm.example.com/onboard")
    with pytest.raises(ConfigError, match="CRM_LOOKUP_TOKEN must be set when CRM_LOOKUP_URL is"):
        crm_config(settings, FLOWS)


def test_the_flows_must_exist_and_the_values_arrive(tmp_path: Path) -> None:
    base = {"crm_lookup_url": "https://crm.example.com/", "crm_lookup_token": "t0ken"}
    settings = make_settings(tmp_path, **base, crm_lookup_flows="pl-support-contracts, nope")
    with pytest.raises(ConfigError, match="CRM_LOOKUP_FLOWS names unknown flows: nope"):
        crm_config(settings, FLOWS)
    settings = make_settings(
        tmp_path, **base, crm_lookup_flows="pl-support-contracts", crm_lookup_min_ms=450
    )
    config = crm_config(settings, FLOWS)
    assert config is not None
    assert (config.token, config.min_seconds, config.timeout) == ("t0ken", 0.45, 2.0)
    assert settings.crm_flows == frozenset({"pl-support-contracts"})


def test_a_wrong_setting_is_one_line_without_the_token(tmp_path: Path) -> None:
    env = {
        "CRM_LOOKUP_URL": "crm.example.com",
        "CRM_LOOKUP_TOKEN": "very-secret-token",
        "CRM_LOOKUP_MIN_MS": "-1",
    }
    done = onboard("crm", "sync", tmp_path=tmp_path, env=env)
    assert done.returncode == 2
    assert "very-secret-token" not in done.stderr + done.stdout
    assert "CRM_LOOKUP_URL must be an http:// or https:// address" in done.stderr
    assert "CRM_LOOKUP_MIN_MS must be at least 0" in done.stderr
    assert "Traceback" not in done.stderr
