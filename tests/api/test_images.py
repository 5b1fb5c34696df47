"""Images through the real openai SDK (both stacks, sync and async): real PNG/JPEG/WebP bytes, URLs that
resolve, each model's rules and OpenAI's 400s, streams of partial images, and bodies that never 500."""

from __future__ import annotations

import asyncio
import base64
import io
import json
from typing import Any

import openai
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pytest_fakeai import FakeAI
from pytest_fakeai.adapters.transports import openai_major
from pytest_fakeai.api.images import IMAGE_URL_TTL, public_base
from pytest_fakeai.api.types import ApiRequest, ApiResponse
from pytest_fakeai.engine.imaging import draw, encode
from tests._support.drive import Driver
from tests._support.drive import http as httpx
from tests._support.spec import check_error, check_image, check_image_event

Image = pytest.importorskip("PIL.Image")
# the SDK marks images.create_variation deprecated (dall-e-2 is retired there); the endpoint still exists
pytestmark = pytest.mark.filterwarnings("ignore:deprecated:DeprecationWarning")


def opened(data: bytes) -> Any:
    img = Image.open(io.BytesIO(data))
    img.load()
    return img


def b64_image(item: Any) -> Any:
    return opened(base64.b64decode(item.b64_json))


def pil_png(mode: str = "RGBA", size: tuple[int, int] = (64, 64)) -> bytes:
    out = io.BytesIO()
    Image.new(mode, size).save(out, "PNG")
    return out.getvalue()


def expect_400(api: Driver, method: str, /, **kwargs: Any) -> dict[str, Any]:
    with pytest.raises(openai.BadRequestError):
        api(method, **kwargs)
    body: dict[str, Any] = api.sim.calls.last.response.json
    check_error(body)
    return dict(body["error"])


def fetch(api: Driver, url: str) -> httpx.Response:
    """GET ``url`` with the client's own HTTP client (the simulator's transport, as on the real port)."""
    http = api.client._client
    if api.mode == "sync":
        return http.get(url)  # type: ignore[no-any-return]

    async def run() -> Any:
        return await http.get(url)

    return asyncio.run(run())  # type: ignore[no-any-return]


# -- generations -----------------------------------------------------------------------------------


def test_dall_e_2_url_resolves_to_a_png(api: Driver, sim: FakeAI) -> None:
    r = api("images.generate", prompt="a lighthouse at dusk", model="dall-e-2", size="512x512", n=2)
    check_image(sim.calls.last.response.json)
    assert set(sim.calls.last.response.json) == {"created", "data"}  # DALL·E: no gpt-image fields
    assert len(r.data) == 2 and r.data[0].url != r.data[1].url
    for item in r.data:
        assert item.url.startswith("https://api.openai.com/v1/images/files/img-") and item.url.endswith(".png")
        assert item.b64_json is None and item.revised_prompt is None
        got = fetch(api, item.url)
        assert got.status_code == 200 and got.headers["content-type"] == "image/png"
        assert opened(got.content).size == (512, 512)


def test_dall_e_3_b64_with_revised_prompt(api: Driver, sim: FakeAI) -> None:
    r = api(
        "images.generate", prompt="a red fox in snow", model="dall-e-3", size="1792x1024", response_format="b64_json"
    )
    check_image(sim.calls.last.response.json)
    (item,) = r.data
    assert b64_image(item).size == (1792, 1024)
    assert item.revised_prompt.startswith("a red fox in snow.") and len(item.revised_prompt) > 40
    for quality, style in (("hd", "natural"), ("standard", "vivid")):
        api("images.generate", prompt="x", model="dall-e-3", quality=quality, style=style)


@pytest.mark.parametrize(("output_format", "pil_format"), [("png", "PNG"), ("jpeg", "JPEG"), ("webp", "WEBP")])
def test_gpt_image_1_formats_sizes_and_usage(api: Driver, sim: FakeAI, output_format: str, pil_format: str) -> None:
    r = api(
        "images.generate",
        prompt="a tall lighthouse",
        model="gpt-image-1",
        size="1024x1536",
        quality="low",
        output_format=output_format,
    )
    body = sim.calls.last.response.json
    check_image(body)
    img = b64_image(r.data[0])
    assert (img.format, img.size) == (pil_format, (1024, 1536))
    assert (r.size, r.quality, r.output_format, r.background) == ("1024x1536", "low", output_format, "opaque")
    usage = r.usage
    assert usage.output_tokens == 408  # low quality, portrait
    assert usage.input_tokens == usage.input_tokens_details.text_tokens > 0
    assert usage.input_tokens_details.image_tokens == 0
    assert usage.total_tokens == usage.input_tokens + usage.output_tokens


def test_gpt_image_1_auto_size_quality_and_transparency(api: Driver, sim: FakeAI) -> None:
    r = api("images.generate", prompt="a wide landscape of hills", model="gpt-image-1", n=2)
    assert (r.size, r.quality) == ("1536x1024", "high") and r.usage.output_tokens == 2 * 6208
    assert [b64_image(d).size for d in r.data] == [(1536, 1024)] * 2
    r = api("images.generate", prompt="a sticker", model="gpt-image-1", background="transparent", size="1024x1024")
    assert r.background == "transparent"
    img = b64_image(r.data[0])
    assert img.mode == "RGBA" and img.getextrema()[3] == (0, 255)
    r = api("images.generate", prompt="a logo on a transparent background", model="gpt-image-1", output_format="webp")
    assert r.background == "transparent" and b64_image(r.data[0]).mode == "RGBA"


def test_the_model_defaults_like_the_api(api: Driver) -> None:
    assert api("images.generate", prompt="x").data[0].url  # dall-e-2, url
    r = api("images.generate", prompt="x", output_format="jpeg")  # a gpt-image parameter: gpt-image-1
    assert r.output_format == "jpeg" and r.data[0].b64_json


def test_same_prompt_same_picture_and_n_differs(api: Driver) -> None:
    first = api("images.generate", prompt="same", model="gpt-image-1", quality="low", n=2)
    again = api("images.generate", prompt="same", model="gpt-image-1", quality="low")
    assert first.data[0].b64_json == again.data[0].b64_json
    assert first.data[0].b64_json != first.data[1].b64_json
    other = api("images.generate", prompt="different", model="gpt-image-1", quality="low")
    assert other.data[0].b64_json != again.data[0].b64_json


# -- URLs --------------------------------------------------------------------------------------------


def test_url_expires_after_an_hour(sim: FakeAI) -> None:
    client = sim.client()
    url = client.images.generate(prompt="x", model="dall-e-2", size="256x256").data[0].url
    assert client._client.get(url).status_code == 200
    sim.clock.advance(IMAGE_URL_TTL)
    gone = client._client.get(url)
    assert gone.status_code == 404
    check_error(gone.json())
    assert "expired" in gone.json()["error"]["message"]
    missing = client._client.get(url.replace("img-", "img-x"))
    assert missing.status_code == 404


def test_url_resolves_through_interception(sim: FakeAI) -> None:
    with sim.intercept():
        url = openai.OpenAI(api_key="sk-test").images.generate(prompt="x", size="256x256").data[0].url
        got = httpx.get(url)
    assert got.status_code == 200 and opened(got.content).size == (256, 256)


@pytest.mark.parametrize(
    ("headers", "base"),
    [
        ({"host": "api.openai.com"}, "https://api.openai.com"),
        ({"host": "127.0.0.1:8123"}, "http://127.0.0.1:8123"),
        ({"host": "localhost"}, "http://localhost"),
        ({"host": "[::1]:9000"}, "http://[::1]:9000"),
        ({"host": "example.com:443"}, "https://example.com:443"),
        ({"host": "proxy.internal:8080", "x-forwarded-proto": "https"}, "https://proxy.internal:8080"),
        ({}, "https://api.openai.com"),
    ],
)
def test_public_base(headers: dict[str, str], base: str) -> None:
    assert public_base(ApiRequest("POST", "/v1/images/generations", headers=headers)) == base


# -- edits and variations -----------------------------------------------------------------------------


def test_dall_e_2_edit_with_alpha_or_mask(api: Driver, sim: FakeAI) -> None:
    r = api(
        "images.edit", image=("in.png", pil_png("RGBA")), prompt="add a hat", size="256x256", response_format="b64_json"
    )
    check_image(sim.calls.last.response.json)
    assert b64_image(r.data[0]).size == (256, 256)
    r = api("images.edit", image=("in.png", pil_png("RGB")), mask=("m.png", pil_png("RGBA")), prompt="add a hat")
    assert opened(fetch(api, r.data[0].url).content).size == (1024, 1024)


def test_gpt_image_1_edit_takes_several_images_of_any_format(api: Driver, sim: FakeAI) -> None:
    jpeg = encode(draw(1, 512, 256), "jpeg")
    webp = encode(draw(2, 300, 300), "webp")
    r = api(
        "images.edit",
        image=[("a.jpg", jpeg), ("b.webp", webp), ("c.png", pil_png("RGB"))],
        prompt="collage",
        model="gpt-image-1",
        quality="medium",
    )
    check_image(sim.calls.last.response.json)
    assert r.size == "1536x1024"  # auto follows the first image's shape
    assert b64_image(r.data[0]).size == (1536, 1024)
    details = r.usage.input_tokens_details
    assert details.image_tokens == 3 * (85 + 170)  # each fits one 512-pixel tile
    assert r.usage.input_tokens == details.text_tokens + details.image_tokens


def test_edits_are_deterministic_in_the_image(api: Driver) -> None:
    one = api("images.edit", image=("a.png", pil_png("RGBA")), prompt="p", response_format="b64_json", size="256x256")
    two = api(
        "images.edit",
        image=("a.png", pil_png("RGBA", (32, 32))),
        prompt="p",
        response_format="b64_json",
        size="256x256",
    )
    assert one.data[0].b64_json != two.data[0].b64_json


def test_variation(api: Driver, sim: FakeAI) -> None:
    r = api(
        "images.create_variation", image=("in.png", pil_png("RGB")), n=3, size="512x512", response_format="b64_json"
    )
    check_image(sim.calls.last.response.json)
    assert len(r.data) == 3 and {b64_image(d).size for d in r.data} == {(512, 512)}
    assert len({d.b64_json for d in r.data}) == 3


# -- streaming -----------------------------------------------------------------------------------------


def sse_events(response: ApiResponse) -> list[dict[str, Any]]:
    assert response.stream is not None
    text = b"".join(data for _, data in response.stream).decode()
    out = []
    for block in text.strip().split("\n\n"):
        lines = dict(line.split(": ", 1) for line in block.split("\n"))
        payload = json.loads(lines["data"])
        assert lines["event"] == payload["type"]
        out.append(payload)
    return out


def test_stream_partial_images_through_the_sdk(api: Driver) -> None:
    events = api(
        "images.generate",
        prompt="a cat",
        model="gpt-image-1",
        stream=True,
        partial_images=2,
        quality="low",
        size="1024x1024",
    )
    assert [e.type for e in events] == ["image_generation.partial_image"] * 2 + ["image_generation.completed"]
    assert [e.partial_image_index for e in events[:2]] == [0, 1]
    sizes = {opened(base64.b64decode(e.b64_json)).size for e in events}
    assert sizes == {(1024, 1024)}
    assert events[-1].usage.output_tokens == 272
    assert events[0].b64_json != events[-1].b64_json


def test_stream_events_match_the_spec(sim: FakeAI) -> None:
    body = json.dumps(
        {
            "prompt": "a cat",
            "model": "gpt-image-1",
            "stream": True,
            "partial_images": 1,
            "quality": "low",
            "output_format": "webp",
        }
    ).encode()
    events = sse_events(sim.handle(ApiRequest("POST", "/v1/images/generations", body=body)))
    assert [e["type"] for e in events] == ["image_generation.partial_image", "image_generation.completed"]
    for event in events:
        check_image_event(event)
    request = httpx.Request(
        "POST",
        "http://x/v1/images/edits",
        files={"image": ("a.png", pil_png())},
        data={"prompt": "p", "model": "gpt-image-1", "stream": "true", "quality": "low"},
    )
    response = sim.handle(ApiRequest("POST", "/v1/images/edits", headers=dict(request.headers), body=request.read()))
    (done,) = sse_events(response)
    assert done["type"] == "image_edit.completed"
    check_image_event(done)


# -- OpenAI's 400s ---------------------------------------------------------------------------------------

GENERATE_ERRORS = [
    ({"model": "dall-e-3", "n": 2}, "n", "n=1"),
    ({"model": "dall-e-2", "n": 11}, "n", "<= 10"),
    ({"model": "dall-e-2", "n": 0}, "n", ">= 1"),
    ({"model": "dall-e-2", "size": "1792x1024"}, "size", "'256x256', '512x512', and '1024x1024'"),
    ({"model": "dall-e-3", "size": "512x512"}, "size", "'1792x1024'"),
    ({"model": "gpt-image-1", "size": "1792x1024"}, "size", "'1536x1024'"),
    ({"model": "dall-e-3", "quality": "low"}, "quality", "'hd'"),
    ({"model": "gpt-image-1", "quality": "hd"}, "quality", "'medium'"),
    ({"model": "dall-e-2", "quality": "hd"}, "quality", "'standard'"),
    ({"model": "dall-e-3", "style": "painterly"}, "style", "'natural'"),
    ({"model": "dall-e-2", "style": "vivid"}, "style", "dall-e-3"),
    ({"model": "gpt-image-1", "style": "vivid"}, "style", "dall-e-3"),
    ({"model": "gpt-image-1", "response_format": "url"}, "response_format", "b64_json"),
    ({"model": "dall-e-2", "response_format": "gif"}, "response_format", "'url' and 'b64_json'"),
    ({"model": "dall-e-2", "output_format": "png"}, "output_format", "gpt-image-1"),
    ({"model": "dall-e-3", "background": "transparent"}, "background", "gpt-image-1"),
    ({"model": "gpt-image-1", "background": "transparent", "output_format": "jpeg"}, "background", "'png' or 'webp'"),
    ({"model": "gpt-image-1", "output_format": "gif"}, "output_format", "'webp'"),
    ({"model": "gpt-image-1", "output_compression": 50}, "output_compression", "jpeg and webp"),
    ({"model": "gpt-image-1", "output_compression": 101, "output_format": "jpeg"}, "output_compression", "<= 100"),
    ({"model": "gpt-image-1", "moderation": "strict"}, "moderation", "'low' and 'auto'"),
    ({"model": "gpt-image-1", "partial_images": 2}, "partial_images", "stream"),
    ({"model": "dall-e-3", "stream": True}, "stream", "gpt-image-1"),
    ({"model": "gpt-4o"}, "model", "chat model"),
    ({"prompt": ""}, "prompt", "empty"),
    ({"model": "dall-e-2", "prompt": "x" * 1001}, "prompt", "maximum length 1000"),
]


@pytest.mark.parametrize(
    ("kwargs", "param", "text"), GENERATE_ERRORS, ids=[f"{e[1]}-{i}" for i, e in enumerate(GENERATE_ERRORS)]
)
def test_generation_errors(api: Driver, kwargs: dict[str, Any], param: str, text: str) -> None:
    kwargs = {"prompt": "a cat", **kwargs}
    err = expect_400(api, "images.generate", **kwargs)
    assert err["param"] == param and err["type"] == "invalid_request_error"
    assert text in err["message"]


EDIT_ERRORS = [
    ({"image": ("a.png", b"not an image")}, "image", "not a PNG, JPEG, WebP or GIF"),
    ({"image": ("a.png", b"")}, "image", "empty"),
    ({"image": ("a.png", pil_png("RGB"))}, "image", "['RGBA', 'LA', 'L'], got RGB"),
    ({"image": ("a.png", pil_png("RGBA", (64, 32)))}, "image", "square"),
    ({"image": ("a.jpg", encode(draw(1, 64, 64), "jpeg"))}, "image", "must be PNG"),
    ({"image": [("a.png", pil_png()), ("b.png", pil_png())]}, "image", "one image at a time"),
    ({"image": ("a.png", pil_png()), "mask": ("m.png", pil_png("RGBA", (32, 32)))}, "mask", "same dimensions"),
    ({"image": ("a.png", pil_png()), "mask": ("m.png", pil_png("RGB"))}, "mask", "alpha channel"),
    ({"image": ("a.png", pil_png()), "model": "dall-e-3"}, "model", "dall-e-2 or a GPT image model"),
    ({"image": ("a.png", pil_png()), "model": "gpt-image-1", "input_fidelity": "max"}, "input_fidelity", "'high'"),
    (
        {"image": ("a.gif", pil_png()[:0] + b"GIF89a\x01\x00\x01\x00" + bytes(20)), "model": "gpt-image-1"},
        "image",
        "GIF",
    ),
    ({"image": ("a.png", pil_png()), "prompt": ""}, "prompt", "empty"),
]


@pytest.mark.parametrize(
    ("kwargs", "param", "text"), EDIT_ERRORS, ids=[f"{e[1]}-{i}" for i, e in enumerate(EDIT_ERRORS)]
)
def test_edit_errors(api: Driver, kwargs: dict[str, Any], param: str, text: str) -> None:
    kwargs = {"prompt": "add a hat", **kwargs}
    err = expect_400(api, "images.edit", **kwargs)
    assert err["param"] == param
    if kwargs["prompt"] == "" and (openai_major() or 0) < 3:
        text = "Missing required parameter"  # openai 1.x/2.x leave an empty field out of the form
    assert text in err["message"]


def test_variation_errors(api: Driver) -> None:
    err = expect_400(api, "images.create_variation", image=("a.png", pil_png()), model="dall-e-3")
    assert err["param"] == "model" and "dall-e-2 only" in err["message"]
    err = expect_400(api, "images.create_variation", image=("a.png", b"\x89PNG\r\n\x1a\n garbage"))
    assert err["param"] == "image" and "truncated" in err["message"]
    err = expect_400(api, "images.create_variation", image=("a.png", pil_png()), size="1024x1536")
    assert err["param"] == "size"


def test_unknown_and_mistyped_parameters(api: Driver) -> None:
    err = expect_400(api, "images.generate", prompt="x", extra_body={"colour": "red"})
    assert (err["param"], err["code"]) == ("colour", "unknown_parameter")
    err = expect_400(api, "images.generate", prompt="x", extra_body={"n": "2"})
    assert (err["param"], err["code"]) == ("n", "invalid_type")
    err = expect_400(api, "images.edit", image=("a.png", pil_png()), prompt="x", extra_body={"n": "two"})
    assert (err["param"], err["code"]) == ("n", "invalid_type")


def test_missing_prompt_and_image(sim: FakeAI) -> None:
    response = sim.handle(ApiRequest("POST", "/v1/images/generations", body=b'{"model": "dall-e-2"}'))
    assert response.status == 400 and json.loads(response.body)["error"]["param"] == "prompt"
    request = httpx.Request("POST", "http://x/v1/images/edits", data={"prompt": "p"}, files={"other": ("a", b"x")})
    response = sim.handle(ApiRequest("POST", "/v1/images/edits", headers=dict(request.headers), body=request.read()))
    assert response.status == 400 and json.loads(response.body)["error"]["param"] == "image"
    response = sim.handle(ApiRequest("POST", "/v1/images/edits", body=b'{"prompt": "p"}'))
    assert response.status == 400 and "multipart/form-data" in json.loads(response.body)["error"]["message"]


# -- nothing a client sends makes a 500 --------------------------------------------------------------------

_SIM = FakeAI(seed=5)
_VALUES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-3, 12),
    st.floats(allow_nan=False),
    st.text(max_size=12),
    st.sampled_from(
        [
            "dall-e-2",
            "dall-e-3",
            "gpt-image-1",
            "auto",
            "1024x1024",
            "256x256",
            "png",
            "jpeg",
            "webp",
            "url",
            "b64_json",
            "transparent",
            "hd",
            "low",
            "vivid",
            "tts-1",
        ]
    ),
)
_KEYS = st.sampled_from(
    [
        "prompt",
        "model",
        "n",
        "size",
        "quality",
        "style",
        "response_format",
        "output_format",
        "output_compression",
        "background",
        "moderation",
        "stream",
        "partial_images",
        "user",
    ]
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(body=st.dictionaries(_KEYS, _VALUES, max_size=7), raw=st.binary(max_size=40))
def test_random_json_never_500s(body: dict[str, Any], raw: bytes) -> None:
    for payload in (json.dumps(body).encode(), raw):
        response = _SIM.handle(ApiRequest("POST", "/v1/images/generations", body=payload))
        assert response.status in (200, 400, 404), response.body
        if response.status == 200 and response.stream is not None:
            response.stream.close()


_FIELDS = st.dictionaries(
    st.sampled_from(["prompt", "model", "n", "size", "response_format", "mask", "quality", "background", "stream"]),
    st.sampled_from(["p", "dall-e-2", "gpt-image-1", "2", "x", "256x256", "auto", "b64_json", "true", "-1", ""]),
    max_size=6,
)
_FILES = st.lists(
    st.tuples(
        st.sampled_from(["image", "image[]", "mask", "other"]),
        st.sampled_from([b"", b"junk", b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff\xe0", b"RIFF\x00\x00\x00\x00WEBP"]),
    ),
    max_size=3,
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(fields=_FIELDS, files=_FILES, path=st.sampled_from(["/v1/images/edits", "/v1/images/variations"]))
def test_random_forms_never_500(fields: dict[str, str], files: list[tuple[str, bytes]], path: str) -> None:
    request = httpx.Request(
        "POST", "http://x" + path, data=fields, files=[(name, ("f.png", data)) for name, data in files] or None
    )
    body = request.read()
    response = _SIM.handle(ApiRequest("POST", path, headers=dict(request.headers), body=body))
    assert 200 <= response.status < 500, response.body
    if response.status != 200:
        check_error(json.loads(response.body))
    elif response.stream is not None:
        response.stream.close()


def test_docs_examples_run() -> None:
    """docs/images.md runs as written, top to bottom, in one namespace."""
    import re
    from pathlib import Path

    text = (Path(__file__).resolve().parents[2] / "docs" / "images.md").read_text()
    namespace: dict[str, object] = {}
    for block in re.findall(r"```python\n(.*?)```", text, re.S):
        exec(compile(block, "docs/images.md", "exec"), namespace)
