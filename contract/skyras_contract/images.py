"""An agent's version is its image's tag; a digest pins the bytes, not the version."""


def image_version(image: str) -> str:
    """`skyras/marcus:0.2.0@sha256:...` -> `0.2.0`; `latest` when untagged.

    The hub records it and the operator labels the pods with it (a label
    value cannot hold `@sha256:...`), so both read it here.
    """
    reference = image.split("@", 1)[0]
    last = reference.rsplit("/", 1)[-1]  # a registry's port is not a tag
    if ":" in last:
        return last.rsplit(":", 1)[1]
    return "latest"
