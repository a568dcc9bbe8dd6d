"""`python -m skyras_operator.drain`: delete Agents and wait until they are gone.

The chart's pre-delete hook Job runs it (charts/skyras/templates/operator/drain.yaml)
while the operator still runs: `helm uninstall` would otherwise delete the
operator's Deployment together with the Agents, and nothing would be left to
remove the operator's finalizer (skyras.io/operator), so the Agents, and a
namespace being deleted, would stay Terminating forever.

For each Agent matching --selector in --namespace: delete it, then wait until
every one is gone (the operator deregisters each from the hub and drops its
finalizer). After --timeout seconds with some still there (no operator running,
or one that cannot finish), --on-timeout decides:
  remove-finalizer  (default) take the operator's finalizer off them and say so:
                    they go, their hub registrations stay behind (harmless once
                    the hub goes too; `skyras agents deregister` on a kept hub)
  fail              leave them, exit 1 (helm uninstall then fails; rerun it with
                    the operator running, or `helm uninstall --no-hooks`)
Exit status 0: every matching Agent is gone.

It talks to the cluster of the in-cluster account or the current kubeconfig,
and needs list, get, delete and patch on agents.skyras.io in --namespace.
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
from collections.abc import Callable, Sequence
from typing import Any, cast

from kubernetes.client import CustomObjectsApi
from kubernetes.client.exceptions import ApiException

from skyras_operator import constants, kube

log = logging.getLogger("skyras_operator.drain")

# After the finalizer is removed the API server deletes at once; this is its slack.
FORCED_GRACE_SECONDS = 30.0


class Agents:
    """The Agents of one namespace matching one label selector, through the API."""

    def __init__(self, api: CustomObjectsApi, namespace: str, selector: str) -> None:
        self.api, self.namespace, self.selector = api, namespace, selector

    def current(self) -> list[dict[str, Any]]:
        result = self.api.list_namespaced_custom_object(
            constants.GROUP,
            constants.VERSION,
            self.namespace,
            constants.PLURAL,
            label_selector=self.selector,
        )
        return cast(list[dict[str, Any]], cast(dict[str, Any], result)["items"])

    def delete(self, name: str) -> None:
        try:
            self.api.delete_namespaced_custom_object(
                constants.GROUP, constants.VERSION, self.namespace, constants.PLURAL, name
            )
        except ApiException as exc:
            if exc.status != 404:  # gone already: what we want
                raise

    def drop_operator_finalizer(self, agent: dict[str, Any]) -> None:
        meta = agent["metadata"]
        rest = [f for f in meta.get("finalizers") or [] if f != constants.FINALIZER]
        # With its resourceVersion: a change in between gives 409 (the next round retries).
        patch = {
            "metadata": {"finalizers": rest or None, "resourceVersion": meta["resourceVersion"]}
        }
        try:
            self.api.patch_namespaced_custom_object(
                constants.GROUP,
                constants.VERSION,
                self.namespace,
                constants.PLURAL,
                meta["name"],
                patch,
                _content_type=kube.MERGE_PATCH,
            )
        except ApiException as exc:
            if exc.status not in (404, 409):  # gone, or changed (the next round retries)
                raise


def _names(agents: Sequence[dict[str, Any]]) -> str:
    return ", ".join(sorted(a["metadata"]["name"] for a in agents))


def _wait_gone(
    agents: Agents, seconds: float, poll: float, sleep: Callable[[float], None]
) -> list[dict[str, Any]]:
    """Poll until none is left or `seconds` pass; returns those still there."""
    deadline = time.monotonic() + seconds
    while True:
        left = agents.current()
        remaining = deadline - time.monotonic()
        if not left or remaining <= 0:
            return left
        sleep(min(poll, remaining))


def drain(
    agents: Agents,
    *,
    timeout: float,
    poll: float = 2.0,
    on_timeout: str = "remove-finalizer",
    sleep: Callable[[float], None] = time.sleep,
) -> int:
    """Delete the Agents and wait for them; the exit status (0: all gone)."""
    where = f"namespace {agents.namespace} (selector {agents.selector!r})"
    found = agents.current()
    if not found:
        log.info("No Agents in %s: nothing to drain", where)
        return 0
    for agent in found:
        agents.delete(agent["metadata"]["name"])
    log.info(
        "Deleted %d Agent(s) in %s: %s; waiting up to %.0fs for the operator to deregister them",
        len(found),
        where,
        _names(found),
        timeout,
    )
    left = _wait_gone(agents, timeout, poll, sleep)
    if not left:
        log.info("All %d Agent(s) are gone", len(found))
        return 0

    stuck = "; ".join(
        f"{a['metadata']['name']} (finalizers: {', '.join(a['metadata'].get('finalizers') or []) or 'none'})"
        for a in left
    )
    message = (
        f"Timed out after {timeout:.0f}s: {len(left)} Agent(s) still there: {stuck}. "
        f"Is the SkyRas operator running (it removes {constants.FINALIZER})?"
    )
    if on_timeout == "fail":
        log.error("%s Leaving them (--on-timeout=fail).", message)
        return 1
    log.warning(
        "%s Removing the finalizer %s myself (--on-timeout=remove-finalizer): "
        "they go, but their hub registrations are left behind.",
        message,
        constants.FINALIZER,
    )
    deadline = time.monotonic() + FORCED_GRACE_SECONDS
    while left and time.monotonic() < deadline:
        for agent in left:
            agents.drop_operator_finalizer(agent)
        left = _wait_gone(agents, min(poll, FORCED_GRACE_SECONDS), poll, sleep)
    if left:
        log.error(
            "Still there after removing %s: %s (other finalizers are not mine to remove)",
            constants.FINALIZER,
            _names(left),
        )
        return 1
    log.info("All %d Agent(s) are gone (%s removed by the drain)", len(found), constants.FINALIZER)
    return 0


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m skyras_operator.drain",
        description=(
            "Delete the Agents matching --selector in --namespace and wait until the "
            "operator has deregistered them and removed its finalizer "
            f"({constants.FINALIZER}). Run by the chart's pre-delete hook before "
            "`helm uninstall` removes the operator. Exit 0 when all are gone."
        ),
        epilog=(
            "example: python -m skyras_operator.drain --namespace skyras "
            "--selector app.kubernetes.io/instance=skyras,app.kubernetes.io/component=agent "
            "--timeout 120"
        ),
    )
    parser.add_argument("--namespace", required=True, help="namespace of the Agents")
    parser.add_argument(
        "--selector",
        required=True,
        help="label selector of the Agents to delete, e.g. app.kubernetes.io/instance=skyras",
    )
    parser.add_argument(
        "--timeout",
        type=float,
        default=120.0,
        help="seconds to wait for the operator to finish the Agents (default: 120)",
    )
    parser.add_argument(
        "--poll", type=float, default=2.0, help="seconds between checks (default: 2)"
    )
    parser.add_argument(
        "--on-timeout",
        choices=["remove-finalizer", "fail"],
        default="remove-finalizer",
        help=(
            f"what to do with Agents still there after --timeout: remove {constants.FINALIZER} "
            "from them so they go, leaving their hub registrations behind (default), "
            "or fail with exit status 1"
        ),
    )
    args = parser.parse_args(argv)
    if args.timeout < 0 or args.poll <= 0:
        parser.error("--timeout must be >= 0 and --poll > 0")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s", stream=sys.stdout
    )
    client = kube.load_config()
    try:
        agents = Agents(CustomObjectsApi(client), args.namespace, args.selector)
        return drain(agents, timeout=args.timeout, poll=args.poll, on_timeout=args.on_timeout)
    except ApiException as exc:
        log.error("The API server refused: %s %s", exc.status, exc.reason)
        return 2
    finally:
        client.close()


if __name__ == "__main__":
    sys.exit(main())
