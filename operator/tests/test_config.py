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


AGENT_ENV = (
    '[{"name": "SKYRAS_DATABASE_URL", "valueFrom": {"secretKeyRef": {"name": "db", "key": "url"}}},'
    ' {"name": "SKYRAS_LOG_FORMAT", "value": "json"}]'
)


def test_the_platform_env_is_for_the_operators_own_namespace_only() -> None:
    settings = config.Settings.from_env(
        {"SKYRAS_OPERATOR_AGENT_ENV": AGENT_ENV, "POD_NAMESPACE": "studio"}
    )
    assert [e["name"] for e in settings.platform_env_for("studio")] == [
        "SKYRAS_DATABASE_URL",
        "SKYRAS_LOG_FORMAT",
    ]
    assert settings.platform_env_for("elsewhere") == ()
    assert config.Settings.from_env({"POD_NAMESPACE": "studio"}).platform_env_for("studio") == ()


@pytest.mark.parametrize(
    ("raw", "complaint"),
    [
        ("[{name: x}]", "must be a JSON list of EnvVar objects: Expecting"),
        ('{"name": "A", "value": "1"}', "must be a JSON list"),
        ('[{"value": "1"}]', r"\[0\] needs a valid name"),
        ('[{"name": "A"}]', "exactly one of value or valueFrom"),
        ('[{"name": "A", "value": "1", "valueFrom": {}}]', "exactly one of value or valueFrom"),
        ('[{"name": "A", "value": 1}]', "must be a string"),
        ('[{"name": "A", "valueFrom": "db"}]', "must be an object"),
        ('[{"name": "A", "value": "1"}, {"name": "A", "value": "2"}]', "appears twice"),
    ],
)
def test_a_bad_platform_env_fails_at_startup(raw: str, complaint: str) -> None:
    with pytest.raises(ValueError, match=f"SKYRAS_OPERATOR_AGENT_ENV.*{complaint}"):
        config.Settings.from_env({"SKYRAS_OPERATOR_AGENT_ENV": raw, "POD_NAMESPACE": "studio"})


def test_a_platform_env_without_a_namespace_fails_at_startup() -> None:
    with pytest.raises(ValueError, match="POD_NAMESPACE"):
        config.Settings.from_env({"SKYRAS_OPERATOR_AGENT_ENV": AGENT_ENV})


def test_backoff_doubles_up_to_the_maximum() -> None:
    settings = config.Settings(backoff_base=1.0, backoff_max=60.0)
    assert [settings.backoff(n) for n in range(8)] == [1, 2, 4, 8, 16, 32, 60, 60]
    assert settings.backoff(10_000) == 60
