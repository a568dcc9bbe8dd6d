"""The OpenAI-compatible endpoint, through a stand-in that follows the published API.

The stand-in is first checked with the official `openai` client (the
reference implementation of the wire contract), then Giorgio is run
against it: success, timeout, 429 with Retry-After, errors.
"""

import json
from collections.abc import AsyncIterator

import httpx
import openai
import pytest

from skyras.testing import ServedApp, serve
from tests.standins.openai_api import StandinState, openai_app

from .conftest import GiorgioFactory
from .measure import decode
from .utils import cover_request

MODEL_COPY = {
    "description": "Night Drive is a slow-burning synthwave ride through an empty city.",
    "show_notes": "Aurora Lane talks about recording Night Drive at 3 a.m.",
    "x": "Night Drive by Aurora Lane is out now. Windows down.",
    "bluesky": "x" * 301,  # over Bluesky's 300: the template answers for this one
}


@pytest.fixture
async def standin() -> AsyncIterator[tuple[StandinState, ServedApp]]:
    state = StandinState(chat_content=json.dumps(MODEL_COPY))
    async with serve(openai_app(state)) as served:
        yield state, served


def model_settings(served: ServedApp, state: StandinState, **extra: object) -> dict[str, object]:
    return {
        "model_base_url": f"{served.url}/v1",
        "model_api_key": state.api_key,
        "chat_model": "gpt-4o-mini",
        "image_model": "gpt-image-1",
        "model_timeout_seconds": 5,
        **extra,
    }


async def test_the_standin_speaks_the_api_the_official_client_expects(
    standin: tuple[StandinState, ServedApp],
) -> None:
    state, served = standin
    client = openai.AsyncOpenAI(base_url=f"{served.url}/v1", api_key=state.api_key, max_retries=0)
    completion = await client.chat.completions.create(
        model="gpt-4o-mini",
        messages=[{"role": "user", "content": "hi"}],
        response_format={"type": "json_object"},
    )
    image = await client.images.generate(
        model="gpt-image-1", prompt="a cover", size="1024x1024", response_format="b64_json"
    )
    state.script = [("429", 2)]
    with pytest.raises(openai.RateLimitError) as limited:
        await client.chat.completions.create(
            model="gpt-4o-mini", messages=[{"role": "user", "content": "hi"}]
        )
    with pytest.raises(openai.NotFoundError):
        await client.chat.completions.create(
            model="gpt-9", messages=[{"role": "user", "content": "hi"}]
        )
    wrong = openai.AsyncOpenAI(base_url=f"{served.url}/v1", api_key="sk-wrong", max_retries=0)
    with pytest.raises(openai.AuthenticationError) as denied:
        await wrong.chat.completions.create(model="gpt-4o-mini", messages=[])
    await client.close()
    await wrong.close()

    assert json.loads(completion.choices[0].message.content or "") == MODEL_COPY
    assert completion.choices[0].finish_reason == "stop" and completion.usage is not None
    assert image.data is not None and image.data[0].b64_json
    assert limited.value.response.headers["retry-after"] == "2"
    assert limited.value.code == "rate_limit_exceeded"
    assert denied.value.code == "invalid_api_key"


async def test_with_a_model_copy_and_art_come_from_it_and_over_limit_pieces_fall_back(
    standin: tuple[StandinState, ServedApp], giorgio_app: GiorgioFactory
) -> None:
    state, served = standin
    async with (
        giorgio_app(**model_settings(served, state)) as giorgio,
        httpx.AsyncClient(base_url=giorgio.url, timeout=120) as client,
    ):
        response = await client.post("/api/generate", json=cover_request(kind="release_kit"))
        generation = response.json()
        image_id = next(o["file_id"] for o in generation["outputs"] if o["name"] == "social_square")
    paths = [path for _, path, _ in state.requests]

    assert response.status_code == 201, response.text
    assert generation["sources"] == {"artwork": "model", "copy": "model"}
    assert generation["copy"]["description"] == MODEL_COPY["description"]
    assert generation["copy"]["social"]["x"] == MODEL_COPY["x"]
    # Bluesky's piece was over its limit: the template's post is used and the result says so.
    assert generation["copy"]["social"]["bluesky"].startswith('New: "Night Drive" by Aurora Lane')
    assert any("bluesky" in f and "over the limit" in f for f in generation["fallbacks"])
    assert paths == ["/v1/images/generations", "/v1/chat/completions"]
    chat_body = state.requests[1][2]
    assert chat_body["model"] == "gpt-4o-mini" and chat_body["response_format"] == {
        "type": "json_object"
    }
    assert image_id


async def test_a_model_background_shows_under_the_text(
    standin: tuple[StandinState, ServedApp], giorgio_app: GiorgioFactory, letitia: ServedApp
) -> None:
    state, served = standin
    async with (
        giorgio_app(**model_settings(served, state)) as giorgio,
        httpx.AsyncClient(base_url=giorgio.url, timeout=120) as client,
    ):
        generation = (await client.post("/api/generate", json=cover_request())).json()
    async with letitia.client() as library:
        jpeg = (
            await library.get(f"/api/files/{generation['outputs'][0]['file_id']}/content")
        ).content
    corner = decode(jpeg).getpixel((10, 10))
    assert all(abs(a - b) <= 4 for a, b in zip(corner, state.image_colour, strict=True)), corner


async def test_a_timeout_falls_back_to_the_deterministic_result_and_says_so(
    standin: tuple[StandinState, ServedApp], giorgio_app: GiorgioFactory
) -> None:
    state, served = standin
    state.script = [("slow", 3), ("slow", 3)]
    settings = model_settings(served, state, model_timeout_seconds=0.5)
    async with (
        giorgio_app(**settings) as giorgio,
        httpx.AsyncClient(base_url=giorgio.url, timeout=120) as client,
    ):
        with_model = (
            await client.post("/api/generate", json=cover_request(kind="release_kit"))
        ).json()
        without = (
            await client.post(
                "/api/generate", json=cover_request(kind="release_kit", use_model=False)
            )
        ).json()

    assert with_model["status"] == "succeeded"
    assert with_model["sources"] == {"artwork": "deterministic", "copy": "deterministic"}
    assert with_model["fallbacks"] == [
        "artwork: the model endpoint timed out after 0.5s; the deterministic generator answered",
        "copy: the model endpoint timed out after 0.5s; the templates answered",
    ]
    # The fallback is exactly the deterministic generator's output.
    assert [o["sha256"] for o in with_model["outputs"]] == [o["sha256"] for o in without["outputs"]]
    assert without["fallbacks"] == []


async def test_a_429_is_retried_after_the_delay_it_states(
    standin: tuple[StandinState, ServedApp], giorgio_app: GiorgioFactory
) -> None:
    state, served = standin
    state.script = [("429", 1), "ok"]
    async with (
        giorgio_app(**model_settings(served, state, image_model=None)) as giorgio,
        httpx.AsyncClient(base_url=giorgio.url, timeout=120) as client,
    ):
        generation = (await client.post("/api/generate", json=cover_request(kind="copy"))).json()

    (first, _, _), (second, _, _) = state.requests
    assert second - first >= 1.0
    assert generation["sources"] == {"copy": "model"}
    assert not any("rate limited" in f for f in generation["fallbacks"])


@pytest.mark.parametrize(
    ("script", "extra", "reason"),
    [
        ([("429", 60)], {}, "rate limited (429), retry after 60.0s is beyond 20s"),
        ([("429", 0), ("429", 0), ("429", 0)], {}, "rate limited (429) after 3 attempts"),
        ([("500", "The server had an error")], {}, "answered 500: The server had an error"),
        ([], {"model_api_key": "sk-wrong"}, "answered 401: Incorrect API key provided"),
        ([], {"chat_model": "gpt-9"}, "answered 404: The model `gpt-9` does not exist"),
        ([], {"model_base_url": "http://127.0.0.1:9/v1"}, "could not be reached"),
    ],
    ids=["429-too-long", "429-every-time", "500", "wrong-key", "unknown-model", "unreachable"],
)
async def test_model_failures_fall_back_to_templates_with_the_reason(
    standin: tuple[StandinState, ServedApp],
    giorgio_app: GiorgioFactory,
    script: list,
    extra: dict,
    reason: str,
) -> None:
    state, served = standin
    state.script = list(script)
    settings = model_settings(served, state, image_model=None, **extra)
    async with (
        giorgio_app(**settings) as giorgio,
        httpx.AsyncClient(base_url=giorgio.url, timeout=120) as client,
    ):
        response = await client.post("/api/generate", json=cover_request(kind="copy"))

    generation = response.json()
    assert response.status_code == 201
    assert generation["sources"] == {"copy": "deterministic"}
    assert len(generation["fallbacks"]) == 1 and reason in generation["fallbacks"][0], generation[
        "fallbacks"
    ]
    assert generation["copy"]["social"]["x"].startswith('New: "Night Drive"')
