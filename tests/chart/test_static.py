"""The chart's files against the repository's single sources, and its values' documentation."""

import re
from pathlib import Path

import yaml

from .conftest import CHART, REPO


def test_crd_copy_is_identical_to_manifests() -> None:
    assert (CHART / "crds" / "agents.skyras.io.yaml").read_bytes() == (
        REPO / "manifests" / "crds" / "agents.skyras.io.yaml"
    ).read_bytes(), "cp manifests/crds/agents.skyras.io.yaml charts/skyras/crds/"
    assert sorted(p.name for p in (CHART / "crds").iterdir()) == sorted(
        p.name for p in (REPO / "manifests" / "crds").iterdir()
    )


def test_agent_files_are_copies_of_the_sample_agents() -> None:
    ours = sorted((CHART / "files" / "agents").glob("*.yaml"))
    theirs = sorted((REPO / "manifests" / "agents").glob("*.yaml"))
    assert [p.name for p in ours] == [p.name for p in theirs]
    for mine, source in zip(ours, theirs, strict=True):
        assert mine.read_bytes() == source.read_bytes(), f"cp {source} {mine}"


def test_every_agent_sample_is_listed_in_values() -> None:
    values = yaml.safe_load((CHART / "values.yaml").read_text())
    names = {p.stem for p in (REPO / "manifests" / "agents").glob("*.yaml")}
    assert set(values["agents"]) == names
    assert {n for n, a in values["agents"].items() if a["enabled"]} == {"marcus", "letitia"}


def _leaves(tree: object, prefix: str = "") -> list[str]:
    if isinstance(tree, dict) and tree:
        out = []
        for key, value in tree.items():
            out += _leaves(value, f"{prefix}.{key}" if prefix else key)
        return out
    return [prefix]


def test_every_value_is_documented_where_declared() -> None:
    text = (CHART / "values.yaml").read_text()
    documented = set(re.findall(r"^\s*## @param (\S+)", text, flags=re.M))
    values = yaml.safe_load(text)
    missing = []
    for leaf in _leaves(values):
        # A value is documented by its own @param or by a parent's (free-form maps).
        parts = leaf.split(".")
        if not any(".".join(parts[:i]) in documented for i in range(len(parts), 0, -1)):
            missing.append(leaf)
    assert not missing, f"values without an @param line: {missing}"
    unknown = [p for p in documented if not _has_path(values, p.split("."))]
    assert not unknown, f"@param lines naming no value: {unknown}"


def _has_path(tree: object, parts: list[str]) -> bool:
    for part in parts:
        if not isinstance(tree, dict) or part not in tree:
            return False
        tree = tree[part]
    return True


def _rules(docs: list[dict]) -> set[tuple]:
    out = set()
    for doc in docs:
        for rule in doc.get("rules", []):
            for group in rule["apiGroups"]:
                for resource in rule["resources"]:
                    out.add((group, resource, tuple(sorted(rule["verbs"]))))
    return out


def test_operator_rbac_has_the_rules_of_manifests_rbac(helm) -> None:
    source = [
        d
        for f in (REPO / "manifests" / "rbac").glob("*.yaml")
        for d in yaml.safe_load_all(f.read_text())
        if d and d["kind"] in ("ClusterRole", "Role")
    ]
    for extra in ([], ["--set-json", 'operator.watchNamespaces=["skyras","studio"]']):
        docs = helm.render(*extra)
        roles = [
            d
            for d in docs
            if d["kind"] in ("ClusterRole", "Role")
            and d["metadata"]["labels"]["app.kubernetes.io/component"] == "operator"
        ]
        assert _rules(roles) == _rules(source)
        # No wildcard, no secrets, no delete: least privilege.
        for rule in (r for d in roles for r in d["rules"]):
            assert "*" not in rule["verbs"] and "*" not in rule["resources"]
            assert "delete" not in rule["verbs"] and "secrets" not in rule["resources"]


def test_the_chart_has_a_values_schema() -> None:
    assert Path(CHART / "values.schema.json").is_file()
