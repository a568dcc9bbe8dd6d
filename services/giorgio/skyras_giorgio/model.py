"""An OpenAI-compatible endpoint: chat completions (copy) and image generation (art).

Who reads it: `generations`, only when SKYRAS_MODEL_BASE_URL is set. Any
failure is a `ModelUnavailable` whose reason goes into the result, and the
deterministic generators answer instead. A 429 is retried after the delay
the endpoint states (`retry-after-ms`, else `Retry-After` in seconds), as
long as that is within `model_max_retry_wait_seconds`; a timeout is not
retried (the request already took the whole budget).

Wire contract (the published API): `POST {base}/chat/completions` with
`{model, messages, response_format}` → `choices[0].message.content`;
`POST {base}/images/generations` with `{model, prompt, n, size,
response_format: "b64_json"}` → `data[0].b64_json`; errors are
`{"error": {"message", "type", "param", "code"}}`.
"""

import asyncio
import base64
import binascii
import logging
from typing import Any

import httpx

from skyras_giorgio.config import GiorgioSettings

log = logging.getLogger("skyras_giorgio.model")


class ModelUnavailable(RuntimeError):
    """The model gave no usable answer; `str(exc)` is the reason for the result."""


def retry_delay(response: httpx.Response) -> float | None:
    """Seconds the endpoint asks us to wait, from retry-after-ms or Retry-After."""
    for header, scale in (("retry-after-ms", 1000.0), ("retry-after", 1.0)):
        value = response.headers.get(header)
        if value is not None:
            try:
                return max(0.0, float(value) / scale)
            except ValueError:
                continue
    return None


def _error_message(response: httpx.Response) -> str:
    try:
        error = response.json()["error"]
        return f"{error.get('message')}" + (f" ({error['code']})" if error.get("code") else "")
    except (ValueError, KeyError, TypeError):
        return response.text[:200] or response.reason_phrase


class ModelClient:
    def __init__(self, settings: GiorgioSettings) -> None:
        assert settings.model_base_url, "ModelClient needs SKYRAS_MODEL_BASE_URL"
        self.settings = settings
        headers = {"Content-Type": "application/json"}
        if settings.model_api_key is not None:
            headers["Authorization"] = f"Bearer {settings.model_api_key.get_secret_value()}"
        self.http = httpx.AsyncClient(
            base_url=settings.model_base_url.rstrip("/"),
            headers=headers,
            timeout=settings.model_timeout_seconds,
        )

    async def close(self) -> None:
        await self.http.aclose()

    async def _post(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        timeout = self.settings.model_timeout_seconds
        for attempt in range(self.settings.model_max_retries + 1):
            try:
                response = await self.http.post(path, json=body)
            except httpx.TimeoutException as exc:
                raise ModelUnavailable(f"the model endpoint timed out after {timeout:g}s") from exc
            except httpx.HTTPError as exc:
                raise ModelUnavailable(f"the model endpoint could not be reached: {exc!r}") from exc
            if response.status_code == 429:
                delay = retry_delay(response)
                wait_limit = self.settings.model_max_retry_wait_seconds
                if attempt == self.settings.model_max_retries:
                    raise ModelUnavailable(
                        f"rate limited (429) after {attempt + 1} attempts: {_error_message(response)}"
                    )
                if delay is None or delay > wait_limit:
                    raise ModelUnavailable(
                        f"rate limited (429), retry after {delay}s is beyond {wait_limit:g}s: "
                        f"{_error_message(response)}"
                    )
                log.info("model endpoint: 429, retrying %s in %.2fs", path, delay)
                await asyncio.sleep(delay)
                continue
            if response.status_code != 200:
                raise ModelUnavailable(
                    f"the model endpoint answered {response.status_code}: {_error_message(response)}"
                )
            try:
                payload: dict[str, Any] = response.json()
            except ValueError as exc:
                raise ModelUnavailable(
                    "the model endpoint answered with something not JSON"
                ) from exc
            return payload
        raise AssertionError("unreachable")  # pragma: no cover

    async def chat(self, messages: list[dict[str, str]], *, json_object: bool = False) -> str:
        body: dict[str, Any] = {"model": self.settings.chat_model, "messages": messages}
        if json_object:
            body["response_format"] = {"type": "json_object"}
        payload = await self._post("/chat/completions", body)
        try:
            content = payload["choices"][0]["message"]["content"]
        except (KeyError, IndexError, TypeError) as exc:
            raise ModelUnavailable("the chat completion had no message content") from exc
        if not isinstance(content, str) or not content.strip():
            raise ModelUnavailable("the chat completion was empty (or refused)")
        return content

    async def image(self, prompt: str) -> bytes:
        body = {
            "model": self.settings.image_model,
            "prompt": prompt,
            "n": 1,
            "size": self.settings.image_size,
            "response_format": "b64_json",
        }
        payload = await self._post("/images/generations", body)
        try:
            return base64.b64decode(payload["data"][0]["b64_json"], validate=True)
        except (KeyError, IndexError, TypeError, binascii.Error) as exc:
            raise ModelUnavailable("the image generation had no b64_json image") from exc
