"""The Kubernetes API calls the handlers make, as plain dicts, off the event loop.

Built at startup by main.py (from the in-cluster account or the kubeconfig,
the same place kopf logs in) and kept in kopf's memo. The `kubernetes`
client blocks, so every call runs in a worker thread.
"""

from __future__ import annotations

import asyncio
from typing import Any, cast

import kubernetes
from kubernetes.client import ApiClient, AppsV1Api, CoreV1Api, CustomObjectsApi
from kubernetes.client.exceptions import ApiException

from skyras_operator import constants

MERGE_PATCH = "application/merge-patch+json"


class AlreadyExists(Exception):
    """Create found an object of that name (someone was faster)."""


def load_config() -> ApiClient:
    """An API client for the in-cluster account, or else the current kubeconfig."""
    try:
        kubernetes.config.load_incluster_config()
    except kubernetes.config.ConfigException:
        kubernetes.config.load_kube_config()
    return ApiClient()


class Kube:
    def __init__(self, api_client: ApiClient) -> None:
        self._client = api_client
        self._apps = AppsV1Api(api_client)
        self._core = CoreV1Api(api_client)
        self._custom = CustomObjectsApi(api_client)

    def close(self) -> None:
        self._client.close()

    def _plain(self, obj: Any) -> dict[str, Any]:
        plain: dict[str, Any] = self._client.sanitize_for_serialization(obj)
        return plain

    # Deployments and Services.

    async def read_child(self, kind: str, namespace: str, name: str) -> dict[str, Any] | None:
        read = (
            self._apps.read_namespaced_deployment
            if kind == "Deployment"
            else self._core.read_namespaced_service
        )
        try:
            return self._plain(await asyncio.to_thread(read, name, namespace))
        except ApiException as exc:
            if exc.status == 404:
                return None
            raise

    async def create_child(self, kind: str, namespace: str, body: dict[str, Any]) -> dict[str, Any]:
        create: Any = (
            self._apps.create_namespaced_deployment
            if kind == "Deployment"
            else self._core.create_namespaced_service
        )
        try:
            return self._plain(await asyncio.to_thread(create, namespace, body))
        except ApiException as exc:
            if exc.status == 409:
                raise AlreadyExists(
                    f"{kind} {namespace}/{body['metadata']['name']} exists"
                ) from exc
            raise

    async def patch_child(
        self, kind: str, namespace: str, name: str, patch: dict[str, Any]
    ) -> dict[str, Any]:
        update = (
            self._apps.patch_namespaced_deployment
            if kind == "Deployment"
            else self._core.patch_namespaced_service
        )
        result = await asyncio.to_thread(update, name, namespace, patch, _content_type=MERGE_PATCH)
        return self._plain(result)

    # Agents.

    async def read_agent(self, namespace: str, name: str) -> dict[str, Any] | None:
        try:
            result = await asyncio.to_thread(
                self._custom.get_namespaced_custom_object,
                constants.GROUP,
                constants.VERSION,
                namespace,
                constants.PLURAL,
                name,
            )
        except ApiException as exc:
            if exc.status == 404:
                return None
            raise
        return cast(dict[str, Any], result)

    async def patch_agent_status(self, namespace: str, name: str, status: dict[str, Any]) -> None:
        await asyncio.to_thread(
            self._custom.patch_namespaced_custom_object_status,
            constants.GROUP,
            constants.VERSION,
            namespace,
            constants.PLURAL,
            name,
            {"status": status},
            _content_type=MERGE_PATCH,
        )
