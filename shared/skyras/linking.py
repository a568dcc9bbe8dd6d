"""When a file belongs with a task: the one matching rule, and who owns the link.

Letitia owns `task_files` (DESIGN section 4 and the seed's event flow: Letitia
associates, a `task_files` row and a `file.associated` event); Marcus owns
`tasks`. Neither reads the other's table to match: each applies this rule to
its own rows against the record the other's event carries.

- `task.created` → Letitia matches its files against the task and links them.
- `file.uploaded` → Marcus matches its tasks against the file and reports each
  match as `task.updated` with `linked_file` and `reason`; Letitia turns that
  into the link.

Either way the link is written once, by Letitia, with the same reason text,
and announced by the same `file.associated` event.
"""

import re
from collections.abc import Sequence

# Stems shorter than this name too many things ("a", "mx") to count as a mention.
MIN_STEM_LENGTH = 3


def file_stem(filename: str) -> str:
    """The filename without its last extension (`mix.v2.wav` → `mix.v2`)."""
    return re.sub(r"\.[^.]*$", "", filename.strip())


def named_in(text: str, name: str) -> bool:
    """`name` occurs in `text` as a whole word (case-insensitive), not inside another word."""
    if not name:
        return False
    return re.search(rf"(?<!\w){re.escape(name.lower())}(?!\w)", text.lower()) is not None


def link_reason(
    *,
    task_title: str,
    task_description: str,
    task_tags: Sequence[str],
    filename: str,
    file_tags: Sequence[str],
) -> str | None:
    """Why the file belongs with the task, or None when it does not.

    Tags are compared in their normalised form (`skyras.tags`): a shared tag
    wins, then the filename named in the task's title or description, then
    its stem (3 characters or more).
    """
    shared = [t for t in file_tags if t in task_tags]
    if shared:
        return f"tagged {', '.join(shared)}"
    text = f"{task_title}\n{task_description}"
    name = filename.strip()
    if named_in(text, name):
        return f"named in the task: {name}"
    stem = file_stem(name)
    if len(stem) >= MIN_STEM_LENGTH and stem != name and named_in(text, stem):
        return f"named in the task: {stem}"
    return None
