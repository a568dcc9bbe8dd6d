"""Fixtures for the operator's unit tests: the CRD, the sample Agents, Agent bodies."""

from __future__ import annotations

import copy
import pathlib
from collections.abc import Callable
from typing import Any

import pytest
import yaml

REPO = pathlib.Path(__file__).resolve().parents[2]
CRD_PATH = REPO / "manifests" / "crds" / "agents.skyras.io.yaml"
SAMPLES = sorted((REPO / "manifests" / "agents").glob("*.yaml"))


@pytest.fixture(scope="session")
def crd() -> dict[str, Any]:
    return yaml.safe_load(CRD_PATH.read_text())


def load_sample(name: str) -> dict[str, Any]:
    return yaml.safe_load((REPO / "manifests" / "agents" / f"{name}.yaml").read_text())


@pytest.fixture
def agent_body() -> Callable[..., dict[str, Any]]:
    """An Agent as the API server would hand it to the operator (uid, namespace, generation)."""

    def make(name: str = "marcus", **spec_changes: Any) -> dict[str, Any]:
        body = copy.deepcopy(load_sample(name))
        body["metadata"].update(namespace="skyras", uid=f"uid-{name}", generation=1)
        body["spec"].update(spec_changes)
        return body

    return make
