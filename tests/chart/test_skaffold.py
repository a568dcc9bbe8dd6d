"""skaffold.yaml against skaffold's published JSON schema (from the skaffold Go module)."""

import copy
import json
import os
import subprocess
from pathlib import Path

import jsonpatch
import jsonschema
import pytest
import yaml

from tests.cluster.images import PROJECT_IMAGES

from .conftest import REPO

# The skaffold release whose module ships the schema of skaffold.yaml's apiVersion.
SKAFFOLD_MODULE = "github.com/GoogleContainerTools/skaffold/v2@v2.16.1"
# The images the kind dev loop builds (the other agents run from the node tests' images).
SKAFFOLD_IMAGES = ("hub", "marcus", "letitia", "operator", "frontend")


@pytest.fixture(scope="module")
def config() -> dict:
    return yaml.safe_load((REPO / "skaffold.yaml").read_text())


@pytest.fixture(scope="module")
def schema(config: dict) -> dict:
    version = config["apiVersion"].split("/", 1)[1]
    try:
        info = json.loads(
            subprocess.run(
                ["go", "mod", "download", "-json", SKAFFOLD_MODULE],
                capture_output=True,
                text=True,
                timeout=600,
                check=True,
                cwd=os.path.expanduser("~"),
            ).stdout
        )
    except (OSError, subprocess.SubprocessError) as exc:
        pytest.fail(
            f"cannot fetch {SKAFFOLD_MODULE} through the Go module proxy (needs `go`): {exc}"
        )
    path = Path(info["Dir"]) / "docs-v2" / "content" / "en" / "schemas" / f"{version}.json"
    assert path.is_file(), f"{SKAFFOLD_MODULE} has no schema for {version}"
    return json.loads(path.read_text())


def _errors(schema: dict, doc: dict) -> list[str]:
    return [
        f"{list(e.path)}: {e.message[:200]}"
        for e in jsonschema.Draft7Validator(schema).iter_errors(doc)
    ]


def test_skaffold_yaml_matches_the_published_schema(config, schema) -> None:
    assert _errors(schema, config) == []


def test_every_profile_still_matches_once_applied(config, schema) -> None:
    for profile in config.get("profiles", []):
        patched = jsonpatch.apply_patch(copy.deepcopy(config), profile.get("patches", []))
        patched.pop("profiles")
        assert _errors(schema, patched) == [], profile["name"]


def test_an_artifact_per_image_with_helm_values_and_port_forwards(config) -> None:
    built = {a["image"]: a["docker"] for a in config["build"]["artifacts"]}
    assert set(built) == {f"skyras/{name}" for name in SKAFFOLD_IMAGES}
    # The same Dockerfile, build args and target as the images the node tests build.
    for image in PROJECT_IMAGES:
        if image.name in SKAFFOLD_IMAGES:
            docker = built[f"skyras/{image.name}"]
            assert docker["dockerfile"] == image.dockerfile, image.name
            assert docker.get("buildArgs", {}) == dict(image.build_args), image.name
            assert docker.get("target") == image.target, image.name
            assert (REPO / image.dockerfile).is_file()
    release = config["deploy"]["helm"]["releases"][0]
    assert (REPO / release["chartPath"] / "Chart.yaml").is_file()
    values = yaml.safe_load((REPO / "charts/skyras/values.yaml").read_text())
    for artifact in config["build"]["artifacts"]:
        key = artifact["image"].replace("/", "_").replace("-", "_")
        keys = [k for k, v in release["setValueTemplates"].items() if f"IMAGE_REPO_{key}}}" in v]
        assert len(keys) == 1, artifact["image"]
        node = values
        for part in keys[0].split(".")[:-1]:
            node = node[part]
        assert node["repository"] == artifact["image"], keys[0]
    forwards = {(p["resourceName"], p["port"], p["localPort"]) for p in config["portForward"]}
    assert forwards == {("skyras-hub", 8000, 8000), ("skyras-frontend", 3000, 3000)}
