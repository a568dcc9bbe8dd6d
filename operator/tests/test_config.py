"""config: settings from the environment (prefix SKYRAS_)."""

from __future__ import annotations

import pytest

from skyras_operator import config


def test_defaults() -> None:
    settings = config.Settings.from_env({})
    assert settings.hub_url == "http://127.0.0.1:8000"
    assert settings.endpoint_template == "http://{name}.{namespace}.svc:{port}"
    assert settings.redis_url is None
    assert settings.reconcile_interval == 15.0


def test_values_from_the_environment() -> None:
    settings = config.Settings.from_env(
        {
            "SKYRAS_HUB_URL": "http://hub:8000/",
            "SKYRAS_HUB_TOKEN": "sk-1",
            "SKYRAS_REDIS_URL": "redis://redis:6379/0",
            "SKYRAS_OPERATOR_ENDPOINT_TEMPLATE": "http://127.0.0.1:{port}",
            "SKYRAS_OPERATOR_RECONCILE_INTERVAL": "2",
        }
    )
    assert settings.hub_url == "http://hub:8000"
    assert settings.hub_token == "sk-1"
    assert settings.redis_url == "redis://redis:6379/0"
    assert settings.endpoint_template == "http://127.0.0.1:{port}"
    assert settings.reconcile_interval == 2.0


def test_a_template_with_unknown_fields_fails_at_startup() -> None:
    with pytest.raises(KeyError):
        config.Settings.from_env({"SKYRAS_OPERATOR_ENDPOINT_TEMPLATE": "http://{host}:{port}"})


def test_nonsense_numbers_fail_at_startup() -> None:
    with pytest.raises(ValueError, match="SKYRAS_OPERATOR_RECONCILE_INTERVAL"):
        config.Settings.from_env({"SKYRAS_OPERATOR_RECONCILE_INTERVAL": "often"})


def test_backoff_doubles_up_to_the_maximum() -> None:
    settings = config.Settings(backoff_base=1.0, backoff_max=60.0)
    assert [settings.backoff(n) for n in range(8)] == [1, 2, 4, 8, 16, 32, 60, 60]
    assert settings.backoff(10_000) == 60
