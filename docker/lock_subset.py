"""The part of requirements.lock one of our Python projects needs, for its image.

    python docker/lock_subset.py services/hub             # lock entries, hashes kept
    python docker/lock_subset.py --projects services/hub  # our projects to install

The closure starts from the project's own metadata (``[project].dependencies`` of
its pyproject.toml; our projects it names, such as ``skyras``, are followed into
their pyproject.toml, without their extras) and continues through the lock's
``# via`` annotations, which uv writes from each third-party package's metadata.
The result is the lock's own text for those packages, so ``pip install --no-deps
--require-hashes`` installs exactly the locked versions. Development tools and
``skyras[local]`` are not in it: nothing the image runs depends on them.

Standard library only: it runs in the image's builder stage (Docker's context
has no venv). tests/chart/test_images.py checks its answer against the installed
packages' metadata for every image.
"""

from __future__ import annotations

import argparse
import re
import sys
import tomllib
from dataclasses import dataclass, field
from pathlib import Path


def norm(name: str) -> str:
    """A distribution name as pip compares it (PEP 503)."""
    return re.sub(r"[-_.]+", "-", name).lower()


def requirement_name(spec: str) -> str:
    match = re.match(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)", spec)
    if not match:
        raise ValueError(f"cannot read a distribution name in {spec!r}")
    return norm(match.group(1))


@dataclass
class Lock:
    """requirements.lock as uv writes it: entries, their text and who needs them."""

    text: dict[str, str] = field(default_factory=dict)  # name -> "name==v \\\n --hash..."
    needed_by: dict[str, set[str]] = field(default_factory=dict)  # name -> its `via`
    projects: dict[str, Path] = field(default_factory=dict)  # our name -> its directory
    # (only those whose pyproject.toml is here: a builder stage copies the ones it needs)

    @classmethod
    def read(cls, path: Path, root: Path) -> Lock:
        lock = cls()
        name = ""
        for line in path.read_text().splitlines():
            if not line.strip() or line.startswith("#"):
                continue
            if line.startswith("-e "):
                name, directory = "", root / line[3:].strip()
                if (directory / "pyproject.toml").is_file():
                    project = tomllib.loads((directory / "pyproject.toml").read_text())
                    lock.projects[norm(project["project"]["name"])] = directory
            elif not line.startswith(" "):
                name = requirement_name(line)
                lock.text[name] = line
                lock.needed_by[name] = set()
            elif line.strip().startswith("--hash=") and name in lock.text:
                lock.text[name] += "\n" + line
            elif line.strip().startswith("#") and name in lock.needed_by:
                via = line.strip().lstrip("#").strip().removeprefix("via").strip()
                if via and not via.startswith("-r "):
                    lock.needed_by[name].add(requirement_name(via))
        return lock

    def needs(self, name: str) -> set[str]:
        return {child for child, parents in self.needed_by.items() if name in parents}


def closure(lock: Lock, directory: Path) -> tuple[list[Path], list[str]]:
    """(our projects, dependencies first; third-party names, sorted) that `directory` needs."""
    projects: list[Path] = []
    third_party: set[str] = set()

    def visit_project(path: Path) -> None:
        project = tomllib.loads((path / "pyproject.toml").read_text())["project"]
        for spec in project.get("dependencies", []):
            name = requirement_name(spec)
            if name in lock.projects:
                if lock.projects[name] not in projects:
                    visit_project(lock.projects[name])
            elif name in lock.text:
                visit_package(name)
            else:
                raise SystemExit(
                    f"{path}: {name} is neither in requirements.lock (run `make lock`)"
                    " nor one of our projects copied here"
                )
        projects.append(path)

    def visit_package(name: str) -> None:
        if name not in third_party:
            third_party.add(name)
            for child in lock.needs(name):
                visit_package(child)

    visit_project(directory)
    return projects, sorted(third_party)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="Print the requirements.lock entries (with hashes) that one of our "
        "Python projects needs, or with --projects our projects it needs, "
        "dependencies first (for `pip install --no-deps`)."
    )
    parser.add_argument("project", type=Path, help="the project's directory, e.g. services/hub")
    parser.add_argument("--lock", type=Path, default=Path("requirements.lock"))
    parser.add_argument(
        "--projects", action="store_true", help="print our projects' directories instead"
    )
    args = parser.parse_args(argv)
    root = args.lock.resolve().parent
    lock = Lock.read(args.lock, root)
    projects, packages = closure(lock, (root / args.project).resolve())
    if args.projects:
        print(" ".join(f"./{p.relative_to(root)}" for p in projects))
    else:
        print("\n".join(lock.text[name] for name in packages))
    return 0


if __name__ == "__main__":
    sys.exit(main())
