"""``/v1/images``: generations (JSON), edits and variations (multipart), and the files behind URLs.

Every image is real: PNG by default, JPEG or WebP for the GPT image models
(``output_format``), at the size asked for, drawn deterministically from the model,
the prompt and the uploaded image (:mod:`pytest_fakeai.engine.imaging`).  With
``response_format="url"`` (DALL·E) the bytes are kept by the simulator for an hour of
its clock and served from ``GET /v1/images/files/{name}`` under the base URL the
request came in on, so the URL resolves in process and on the real port alike
(docs/images.md).
"""

from __future__ import annotations

import base64
import hashlib
import threading
from collections import OrderedDict
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..engine.rng import derive_seed
from .common import dumps, json_response, resolve_model, response_headers
from .errors import ApiError, invalid_type, invalid_value, missing_parameter, unknown_parameter
from .types import ApiRequest, ApiResponse, TimedStream
from .validation import describe_json_type, load_json

if TYPE_CHECKING:
    from ..engine.core import Engine
    from ..engine.imaging import ImageInfo, Picture
    from ..engine.registry import ModelSpec
    from .multipart import FilePart, Form

__all__ = [
    "IMAGE_URL_TTL",
    "MAX_STORED_IMAGES",
    "Params",
    "create_image",
    "create_variation",
    "edit_image",
    "image_file",
    "public_base",
]

#: Seconds (simulator clock) an image URL keeps working, as OpenAI's do: an hour.
IMAGE_URL_TTL = 3600
#: Images kept for URLs per simulator; the oldest goes first (steady memory in long runs).
MAX_STORED_IMAGES = 256

MB = 1024 * 1024
_DALLE_MAX_BYTES = 4 * MB
_GPT_MAX_BYTES = 50 * MB
_MAX_EDIT_IMAGES = 16
_CONTENT_TYPES = {"png": "image/png", "jpeg": "image/jpeg", "webp": "image/webp"}
# output tokens of one GPT image by quality and shape (OpenAI's image generation guide)
_GPT_OUTPUT_TOKENS = {
    "low": {"1024x1024": 272, "1024x1536": 408, "1536x1024": 400},
    "medium": {"1024x1024": 1056, "1024x1536": 1584, "1536x1024": 1568},
    "high": {"1024x1024": 4160, "1024x1536": 6240, "1536x1024": 6208},
}


# -- parameters from JSON or from a form -----------------------------------------------------------


def _range_error(param: str, value: float, low: float, high: float, noun: str) -> ApiError:
    above = value > high
    shown = f"{value:g}" if noun == "decimal" else str(int(value))
    limit = high if above else low
    return ApiError(
        400,
        f"Invalid '{param}': {noun} {'above maximum' if above else 'below minimum'} value. Expected a value "
        f"{'<=' if above else '>='} {limit:g}, but got {shown} instead.",
        param=param,
        code=f"{noun}_{'above_max' if above else 'below_min'}_value",
    )


class Params:
    """A request's parameters, from a JSON object or a multipart form, checked as OpenAI checks them.

    A JSON ``null`` counts as not given (the API's parameters are nullable); a form
    sends every value as text, so numbers and booleans are parsed from it, and an
    array arrives as repeated ``name[]`` fields.
    """

    def __init__(self, values: Mapping[str, Any], *, form: bool) -> None:
        self._values = values
        self.form = form

    @classmethod
    def from_json(cls, body: bytes) -> Params:
        data = load_json(body)
        if not isinstance(data, dict):
            raise ApiError(
                400, f"Invalid request body: expected a JSON object, but got {describe_json_type(data)} instead."
            )
        return cls(data, form=False)

    @classmethod
    def from_form(cls, form: Form) -> Params:
        return cls({k: v[0] if len(v) == 1 else v for k, v in form.fields.items()}, form=True)

    def names(self) -> list[str]:
        return list(self._values)

    def given(self, name: str) -> bool:
        return self._values.get(name) is not None

    def raw(self, name: str) -> Any:
        return self._values.get(name)

    def check_known(self, allowed: Sequence[str] | frozenset[str], files: Sequence[str] = ()) -> None:
        for name in [*self._values, *files]:
            if name not in allowed:
                raise unknown_parameter(name.removesuffix("[]"))

    def text(self, name: str, *, required: bool = False) -> str | None:
        value = self._values.get(name)
        if value is None:
            if required:
                raise missing_parameter(name)
            return None
        if isinstance(value, list) and self.form:
            value = value[0]
        if not isinstance(value, str):
            raise invalid_type(name, "a string", describe_json_type(value))
        return value

    def choice(self, name: str, choices: Sequence[str], default: str | None = None) -> str | None:
        value = self.text(name)
        if value is None:
            return default
        if value not in choices:
            raise invalid_value(name, value, choices)
        return value

    def integer(self, name: str, low: int | None = None, high: int | None = None) -> int | None:
        value = self._values.get(name)
        if value is None:
            return None
        if self.form and isinstance(value, str):
            try:
                value = int(value.strip())
            except ValueError:
                raise invalid_type(name, "an integer", "a string") from None
        if isinstance(value, bool) or not isinstance(value, int):
            raise invalid_type(name, "an integer", describe_json_type(value))
        if (low is not None and value < low) or (high is not None and value > high):
            raise _range_error(
                name, value, low if low is not None else value, high if high is not None else value, "integer"
            )
        return value

    def number(self, name: str, low: float, high: float) -> float | None:
        value = self._values.get(name)
        if value is None:
            return None
        if self.form and isinstance(value, str):
            try:
                value = float(value.strip())
            except ValueError:
                raise invalid_type(name, "a number", "a string") from None
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise invalid_type(name, "a number", describe_json_type(value))
        if value != value or not low <= value <= high:  # NaN included
            raise _range_error(name, float(value), low, high, "decimal")
        return float(value)

    def boolean(self, name: str) -> bool | None:
        value = self._values.get(name)
        if value is None:
            return None
        if self.form and isinstance(value, str):
            lowered = value.strip().lower()
            if lowered in ("true", "false"):
                return lowered == "true"
            raise invalid_type(name, "a boolean", "a string")
        if not isinstance(value, bool):
            raise invalid_type(name, "a boolean", describe_json_type(value))
        return value

    def strings(self, name: str) -> list[str] | None:
        """An array of strings (a form sends ``name[]`` once per item)."""
        value = self._values.get(name + "[]" if self.form else name)
        if self.form and value is None:
            value = self._values.get(name)
        if value is None:
            return None
        if self.form:
            return list(value) if isinstance(value, list) else [value]
        if not isinstance(value, list):
            raise invalid_type(name, "an array", describe_json_type(value))
        for i, item in enumerate(value):
            if not isinstance(item, str):
                raise invalid_type(f"{name}[{i}]", "a string", describe_json_type(item))
        return value


# -- the models' rules -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Rules:
    family: str  # "dall-e-2", "dall-e-3" or "gpt-image"
    sizes: tuple[str, ...]
    default_size: str
    max_n: int
    qualities: tuple[str, ...]
    max_prompt: int

    @property
    def gpt(self) -> bool:
        return self.family == "gpt-image"


_DALLE2 = _Rules("dall-e-2", ("256x256", "512x512", "1024x1024"), "1024x1024", 10, ("standard", "auto"), 1000)
_DALLE3 = _Rules("dall-e-3", ("1024x1024", "1792x1024", "1024x1792"), "1024x1024", 1, ("standard", "hd", "auto"), 4000)
_GPT = _Rules(
    "gpt-image", ("1024x1024", "1536x1024", "1024x1536", "auto"), "auto", 10, ("low", "medium", "high", "auto"), 32000
)
# parameters only the GPT image models take: a request naming no model but one of these means gpt-image-1
_GPT_ONLY = (
    "background",
    "output_format",
    "output_compression",
    "moderation",
    "input_fidelity",
    "stream",
    "partial_images",
)


def _rules(spec: ModelSpec, endpoint: str) -> _Rules:
    name = (spec.base_model or spec.id).lower()
    if spec.kind != "image":
        raise ApiError(
            400,
            f"Invalid model '{spec.id}': {endpoint} takes an image model (dall-e-2, dall-e-3 or gpt-image-1), "
            f"and `{spec.id}` is a{'n' if spec.kind[0] in 'aeiou' else ''} {spec.kind} model.",
            param="model",
            code="invalid_value",
        )
    if name.startswith("dall-e-2"):
        return _DALLE2
    if name.startswith("dall-e-3"):
        return _DALLE3
    return _GPT


def _model(engine: Engine, params: Params, default: str) -> tuple[ModelSpec, str]:
    name = params.text("model")
    if name is None:
        name = "gpt-image-1" if any(params.given(p) for p in _GPT_ONLY) else default
    return resolve_model(engine, name), name


def _check_prompt(prompt: str, rules: _Rules) -> None:
    if not prompt.strip():
        raise ApiError(
            400,
            "Invalid 'prompt': empty string. Expected a string with minimum length 1, but got an empty string instead.",
            param="prompt",
            code="empty_string",
        )
    if len(prompt) > rules.max_prompt:
        raise ApiError(
            400,
            f"Invalid 'prompt': string too long. Expected a string with maximum length {rules.max_prompt}, but "
            f"got a string with length {len(prompt)} instead.",
            param="prompt",
            code="string_above_max_length",
        )


def _unsupported(param: str, family: str, hint: str = "") -> ApiError:
    model = "gpt-image-1" if family == "gpt-image" else family
    return ApiError(
        400,
        f"Unknown parameter: '{param}'. It is not supported with {model}. {hint}".strip(),
        param=param,
        code="unknown_parameter",
    )


@dataclass(frozen=True, slots=True)
class _Options:
    """What one images request asks for, checked."""

    rules: _Rules
    spec: ModelSpec
    n: int
    size: str  # may still be "auto" (the GPT models pick)
    quality: str
    style: str | None
    response_format: str  # "url" or "b64_json"
    output_format: str  # png, jpeg or webp
    compression: int
    background: str  # "auto", "transparent" or "opaque"
    stream: bool
    partial_images: int


def _options(engine: Engine, params: Params, endpoint: str, default_model: str) -> _Options:
    spec, _ = _model(engine, params, default_model)
    rules = _rules(spec, endpoint)
    family = rules.family
    n = params.integer("n", 1, 10)
    if n is None:
        n = 1
    if n > rules.max_n:
        raise ApiError(400, f"You must provide n=1 for this model ({spec.id}).", param="n", code="invalid_value")
    size = params.text("size")
    if size is None:
        size = rules.default_size
    elif size not in rules.sizes:
        raise invalid_value("size", size, rules.sizes)
    quality = params.text("quality")
    if quality is None:
        quality = "auto"
    elif quality not in rules.qualities:
        raise invalid_value("quality", quality, rules.qualities)
    style = params.text("style")
    if style is not None:
        if family != "dall-e-3":
            raise _unsupported("style", family, "Only dall-e-3 takes a style; describe the style in the prompt.")
        if style not in ("vivid", "natural"):
            raise invalid_value("style", style, ("vivid", "natural"))
    response_format = params.text("response_format")
    if response_format is not None and rules.gpt:
        raise _unsupported("response_format", family, "The GPT image models always return base64 (b64_json).")
    if response_format is None:
        response_format = "b64_json" if rules.gpt else "url"
    elif response_format not in ("url", "b64_json"):
        raise invalid_value("response_format", response_format, ("url", "b64_json"))
    output_format = params.text("output_format")
    compression = params.integer("output_compression", 0, 100)
    background = params.text("background")
    moderation = params.text("moderation")
    stream = params.boolean("stream")
    partial_images = params.integer("partial_images", 0, 3)
    if not rules.gpt:
        for name, value in (
            ("output_format", output_format),
            ("output_compression", compression),
            ("background", background),
            ("moderation", moderation),
            ("partial_images", partial_images),
        ):
            if value is not None:
                raise _unsupported(name, family, "It is a parameter of the GPT image models (gpt-image-1).")
        if stream:
            raise ApiError(
                400,
                f"Streaming is not supported for {spec.id}: only the GPT image models (gpt-image-1) stream "
                "partial images. Leave 'stream' unset.",
                param="stream",
                code="unsupported_value",
            )
    if output_format is None:
        output_format = "png"
    elif output_format not in ("png", "jpeg", "webp"):
        raise invalid_value("output_format", output_format, ("png", "jpeg", "webp"))
    if compression is not None and compression < 100 and output_format == "png":
        raise ApiError(
            400,
            f"Invalid 'output_compression': {compression}. Compression applies to the jpeg and webp output "
            "formats only; leave it unset (100) for png.",
            param="output_compression",
            code="invalid_value",
        )
    if background is None:
        background = "auto"
    elif background not in ("transparent", "opaque", "auto"):
        raise invalid_value("background", background, ("transparent", "opaque", "auto"))
    if background == "transparent" and output_format == "jpeg":
        raise ApiError(
            400,
            "Transparent backgrounds are not supported with output_format 'jpeg': use 'png' or 'webp', or set "
            "background to 'opaque'.",
            param="background",
            code="invalid_value",
        )
    if moderation is not None and moderation not in ("low", "auto"):
        raise invalid_value("moderation", moderation, ("low", "auto"))
    if partial_images is not None and not stream:
        raise ApiError(
            400,
            "Invalid 'partial_images': partial images are sent only while streaming. Set 'stream' to true or "
            "leave 'partial_images' unset.",
            param="partial_images",
            code="invalid_value",
        )
    return _Options(
        rules=rules,
        spec=spec,
        n=n,
        size=size,
        quality=quality,
        style=style,
        response_format=response_format,
        output_format=output_format,
        compression=100 if compression is None else compression,
        background=background,
        stream=bool(stream),
        partial_images=partial_images or 0,
    )


# -- the stored images behind URLs -----------------------------------------------------------------


class _Stored:
    __slots__ = ("content_type", "data", "expires_at")

    def __init__(self, data: bytes, content_type: str, expires_at: float) -> None:
        self.data, self.content_type, self.expires_at = data, content_type, expires_at


class _ImageStore:
    def __init__(self) -> None:
        self._items: OrderedDict[str, _Stored] = OrderedDict()
        self._lock = threading.Lock()

    def put(self, name: str, item: _Stored) -> None:
        with self._lock:
            self._items[name] = item
            while len(self._items) > MAX_STORED_IMAGES:
                self._items.popitem(last=False)

    def get(self, name: str) -> _Stored | None:
        with self._lock:
            return self._items.get(name)


def _store(engine: Engine) -> _ImageStore:
    store: _ImageStore = engine.stores.setdefault("images", _ImageStore())
    return store


def _header(headers: Mapping[str, str], name: str) -> str | None:
    value = headers.get(name)
    if value is None:
        value = next((v for k, v in headers.items() if k.lower() == name), None)
    return value


def public_base(request: ApiRequest) -> str:
    """``scheme://host`` the client used: the Host header; https unless the host is local or has a port.

    ``X-Forwarded-Proto`` overrides the scheme (a proxy in front of the real port).
    """
    host = (_header(request.headers, "host") or "api.openai.com").strip() or "api.openai.com"
    scheme = (_header(request.headers, "x-forwarded-proto") or "").split(",")[0].strip().lower()
    if scheme not in ("http", "https"):
        name, port = host, ""
        if not host.endswith("]") and ":" in host:
            name, _, port = host.rpartition(":")
        local = name in ("localhost", "[::1]", "0.0.0.0") or name.startswith("127.")
        scheme = "http" if local or (port and port != "443") else "https"
    return f"{scheme}://{host}"


def image_file(engine: Engine, request: ApiRequest, name: str) -> ApiResponse:
    """``GET /v1/images/files/{name}``: the bytes behind an image URL, while it lasts."""
    item = _store(engine).get(name)
    if item is None:
        raise ApiError(404, f"No such image: {name}. Image URLs name images this simulator generated.", param=None)
    if engine.clock.now() >= item.expires_at:
        raise ApiError(
            404,
            f"The image URL has expired: {name}. Image URLs are valid for {IMAGE_URL_TTL // 60} minutes after "
            "they are created; download the image before then, or ask for response_format='b64_json'.",
        )
    headers = [(k, item.content_type if k == "content-type" else v) for k, v in response_headers(engine, 0.0)]
    return ApiResponse(200, headers, item.data)


# -- making the images -----------------------------------------------------------------------------


def _dimensions(size: str) -> tuple[int, int]:
    w, _, h = size.partition("x")
    return int(w), int(h)


def _auto_size(prompt: str, source: ImageInfo | None) -> str:
    """What ``size="auto"`` becomes: the uploaded image's shape, else the prompt's words, else square."""
    if source is not None:
        ratio = source.width / source.height
    else:
        words = prompt.lower()
        ratio = 1.5 if any(w in words for w in ("landscape", "panorama", "wide", "banner")) else 1.0
        if any(w in words for w in ("portrait", "tall", "poster", "vertical")):
            ratio = 2 / 3
    return "1536x1024" if ratio > 1.2 else "1024x1536" if ratio < 0.83 else "1024x1024"


def _revised_prompt(engine: Engine, prompt: str, seed: int) -> str:
    """dall-e-3 rewrites every prompt: the prompt, then a sentence or two in its spirit."""
    import random

    words = [w.strip(".,!?;:").lower() for w in prompt.split()]
    extra = engine.generator.generate(random.Random(seed), max_tokens=None, target_tokens=36, topic_words=words)
    return f"{prompt.strip().rstrip('.')}. {extra.text.strip()}"


def _picture(seed: int, size: str, transparent: bool, layers: int | None = None) -> Picture:
    from ..engine.imaging import draw

    w, h = _dimensions(size)
    return draw(seed, w, h, transparent=transparent, layers=layers)


def _encode(pic: Picture, opts: _Options) -> bytes:
    from ..engine.imaging import encode

    return encode(pic, opts.output_format, quality=opts.compression)


def _image_tokens(info: ImageInfo) -> int:
    from ..engine.tokenizer import image_tokens

    head = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + info.width.to_bytes(4, "big") + info.height.to_bytes(4, "big")
    return image_tokens("data:image/png;base64," + base64.b64encode(head).decode())


def _respond(
    engine: Engine,
    request: ApiRequest,
    opts: _Options,
    prompt: str | None,
    key: object,
    *,
    sources: Sequence[ImageInfo] = (),
    event_prefix: str = "image_generation",
) -> ApiResponse:
    """Draw and encode ``opts.n`` images and answer as the API does (or stream them)."""
    rules = opts.rules
    size = opts.size if opts.size != "auto" else _auto_size(prompt or "", sources[0] if sources else None)
    transparent = opts.background == "transparent" or (
        opts.background == "auto"
        and rules.gpt
        and opts.output_format != "jpeg"
        and "transparent" in (prompt or "").lower()
    )
    base_seed = derive_seed(engine.seed, "image", rules.family, prompt, size, opts.quality, opts.style, key)
    created = int(engine.clock.now())
    quality = "high" if opts.quality == "auto" else opts.quality
    usage: dict[str, Any] | None = None
    output_tokens = 0
    if rules.gpt:
        text_tokens = engine.tokenizer(opts.spec).count(prompt or "")
        image_tokens = sum(_image_tokens(s) for s in sources)
        per_image = _GPT_OUTPUT_TOKENS[quality][size]
        output_tokens = per_image * opts.n
        usage = {
            "input_tokens": text_tokens + image_tokens,
            "input_tokens_details": {"text_tokens": text_tokens, "image_tokens": image_tokens},
            "output_tokens": output_tokens,
            "total_tokens": text_tokens + image_tokens + output_tokens,
        }
    settings = engine.settings
    due = settings.ttft + settings.itl * (output_tokens or 1000 * opts.n)
    if opts.stream:
        assert usage is not None
        return _stream(engine, opts, base_seed, size, transparent, quality, created, usage, event_prefix, due)

    data: list[dict[str, Any]] = []
    for index in range(opts.n):
        seed = derive_seed(base_seed, index)
        encoded = _encode(_picture(seed, size, transparent), opts)
        item: dict[str, Any] = {}
        if opts.response_format == "url":
            name = engine.new_id("img-", 24) + "." + opts.output_format
            _store(engine).put(
                name, _Stored(encoded, _CONTENT_TYPES[opts.output_format], engine.clock.now() + IMAGE_URL_TTL)
            )
            item["url"] = f"{public_base(request)}/v1/images/files/{name}"
        else:
            item["b64_json"] = base64.b64encode(encoded).decode("ascii")
        if rules.family == "dall-e-3" and prompt is not None:
            item["revised_prompt"] = _revised_prompt(engine, prompt, derive_seed(seed, "revised"))
        data.append(item)
    body: dict[str, Any] = {"created": created, "data": data}
    if rules.gpt:
        body = {
            "created": created,
            "background": "transparent" if transparent else "opaque",
            "data": data,
            "output_format": opts.output_format,
            "quality": quality,
            "size": size,
            "usage": usage,
        }
    return json_response(engine, body, due=due)


def _event(kind: str, payload: dict[str, Any]) -> bytes:
    return b"event: " + kind.encode() + b"\ndata: " + dumps(payload) + b"\n\n"


def _stream(
    engine: Engine,
    opts: _Options,
    base_seed: int,
    size: str,
    transparent: bool,
    quality: str,
    created: int,
    usage: dict[str, Any],
    prefix: str,
    due: float,
) -> ApiResponse:
    """Partial images (fewer shapes drawn), then each final image, as server-sent events."""

    def events() -> Iterator[tuple[float, bytes]]:
        common: dict[str, Any] = {
            "created_at": created,
            "size": size,
            "quality": quality,
            "background": "transparent" if transparent else "opaque",
            "output_format": opts.output_format,
        }
        steps = opts.n * (opts.partial_images + 1)
        step = 0
        for index in range(opts.n):
            seed = derive_seed(base_seed, index)
            for k in range(opts.partial_images):
                step += 1
                pic = _picture(seed, size, transparent, layers=k)
                kind = f"{prefix}.partial_image"
                payload = {"type": kind, "b64_json": _b64(_encode(pic, opts)), **common, "partial_image_index": k}
                yield due * step / steps, _event(kind, payload)
            step += 1
            kind = f"{prefix}.completed"
            final = {"type": kind, "b64_json": _b64(_encode(_picture(seed, size, transparent), opts)), **common}
            final["usage"] = usage
            yield due * step / steps, _event(kind, final)

    return ApiResponse(200, response_headers(engine, 0.0, stream=True), stream=TimedStream(events()))


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


# -- the endpoints ---------------------------------------------------------------------------------

_GENERATION_PARAMS = frozenset(
    {
        "prompt",
        "model",
        "n",
        "quality",
        "response_format",
        "output_format",
        "output_compression",
        "stream",
        "partial_images",
        "size",
        "moderation",
        "background",
        "style",
        "user",
        "safety_identifier",
    }
)
_EDIT_PARAMS = frozenset(
    {
        "prompt",
        "model",
        "n",
        "size",
        "quality",
        "response_format",
        "output_format",
        "output_compression",
        "background",
        "input_fidelity",
        "stream",
        "partial_images",
        "user",
        "safety_identifier",
        "image",
        "image[]",
        "mask",
    }
)
_VARIATION_PARAMS = frozenset({"image", "model", "n", "response_format", "size", "user"})


def create_image(engine: Engine, request: ApiRequest) -> ApiResponse:
    """``POST /v1/images/generations``."""
    params = Params.from_json(request.body)
    params.check_known(_GENERATION_PARAMS)
    prompt = params.text("prompt", required=True)
    assert prompt is not None
    opts = _options(engine, params, "image generation", "dall-e-2")
    _check_prompt(prompt, opts.rules)
    params.text("user")
    return _respond(engine, request, opts, prompt, None)


def _read_upload(part: FilePart, param: str, formats: Sequence[str], max_bytes: int, what: str) -> ImageInfo:
    from ..engine.imaging import ImageError, read_image

    if part.size == 0:
        raise ApiError(
            400, f"Invalid '{param}': the file '{part.filename}' is empty.", param=param, code="invalid_value"
        )
    if part.size > max_bytes:
        raise ApiError(
            400,
            f"Invalid '{param}': the file '{part.filename}' is {part.size} bytes; {what} must be less than "
            f"{max_bytes // MB} MB.",
            param=param,
            code="invalid_value",
        )
    try:
        info = read_image(part.data)
    except ImageError as exc:
        raise ApiError(
            400,
            f"Invalid image file for '{param}' ('{part.filename}'): {exc}. Upload a "
            f"{' or '.join(f.upper() for f in formats)} image.",
            param=param,
            code="invalid_image_file",
        ) from None
    if info.format not in formats:
        raise ApiError(
            400,
            f"Invalid image file for '{param}' ('{part.filename}'): it is a {info.format.upper()} image; {what} "
            f"must be {' or '.join(f.upper() for f in formats)}.",
            param=param,
            code="invalid_image_format",
        )
    return info


def _check_dalle_image(info: ImageInfo, param: str, *, need_alpha: bool) -> None:
    if info.width != info.height:
        raise ApiError(
            400,
            f"Invalid '{param}': the image is {info.width}x{info.height}; dall-e-2 takes square images only.",
            param=param,
            code="invalid_value",
        )
    if need_alpha and info.mode not in ("RGBA", "LA", "L"):
        raise ApiError(
            400,
            f"Invalid input image - format must be in ['RGBA', 'LA', 'L'], got {info.mode}. Without a mask, the "
            "image's transparent areas say what to edit: upload a PNG with an alpha channel, or send a mask.",
            param=param,
            code="invalid_image_format",
        )


def edit_image(engine: Engine, request: ApiRequest) -> ApiResponse:
    """``POST /v1/images/edits`` (multipart): one image for dall-e-2, up to 16 for the GPT models."""
    from .multipart import FORM_OVERHEAD, parse_form

    form = parse_form(request, max_bytes=_MAX_EDIT_IMAGES * _GPT_MAX_BYTES + FORM_OVERHEAD)
    params = Params.from_form(form)
    images = form.files_named("image") + form.files_named("image[]")
    if not images:
        if "image" in form.fields or "image[]" in form.fields:
            raise invalid_type("image", "a file", "a string")
        raise missing_parameter("image")
    prompt = params.text("prompt", required=True)
    assert prompt is not None
    params.check_known(_EDIT_PARAMS, [*form.files])
    opts = _options(engine, params, "image edits", "dall-e-2")
    rules = opts.rules
    if rules.family == "dall-e-3":
        raise ApiError(
            400,
            "Invalid model 'dall-e-3': image edits take dall-e-2 or a GPT image model (gpt-image-1).",
            param="model",
            code="invalid_value",
        )
    _check_prompt(prompt, rules)
    fidelity = params.text("input_fidelity")
    if fidelity is not None:
        if not rules.gpt:
            raise _unsupported("input_fidelity", rules.family)
        if fidelity not in ("high", "low"):
            raise invalid_value("input_fidelity", fidelity, ("high", "low"))
    if rules.gpt:
        if len(images) > _MAX_EDIT_IMAGES:
            raise ApiError(
                400,
                f"Invalid 'image': {len(images)} images; image edits take at most {_MAX_EDIT_IMAGES}.",
                param="image",
                code="array_above_max_length",
            )
        sources = [_read_upload(p, "image", ("png", "jpeg", "webp"), _GPT_MAX_BYTES, "each image") for p in images]
    else:
        if len(images) > 1:
            raise ApiError(
                400, "Invalid 'image': dall-e-2 edits one image at a time.", param="image", code="invalid_value"
            )
        sources = [_read_upload(images[0], "image", ("png",), _DALLE_MAX_BYTES, "the image")]
    mask_part = form.file("mask")
    mask: ImageInfo | None = None
    if mask_part is not None:
        mask = _read_upload(mask_part, "mask", ("png",), _DALLE_MAX_BYTES, "the mask")
        first = sources[0]
        if (mask.width, mask.height) != (first.width, first.height):
            raise ApiError(
                400,
                f"Invalid 'mask': the mask is {mask.width}x{mask.height} and the image {first.width}x"
                f"{first.height}; they must have the same dimensions.",
                param="mask",
                code="invalid_value",
            )
        if not mask.has_alpha:
            raise ApiError(
                400,
                f"Invalid 'mask': the mask must have an alpha channel (got {mask.mode}); its fully transparent "
                "areas mark where to edit.",
                param="mask",
                code="invalid_value",
            )
    if not rules.gpt:
        _check_dalle_image(sources[0], "image", need_alpha=mask is None)
    key = tuple(
        hashlib.blake2b(p.data, digest_size=8).hexdigest() for p in [*images, *([mask_part] if mask_part else [])]
    )
    return _respond(engine, request, opts, prompt, key, sources=sources, event_prefix="image_edit")


def create_variation(engine: Engine, request: ApiRequest) -> ApiResponse:
    """``POST /v1/images/variations`` (multipart, dall-e-2 only)."""
    from .multipart import FORM_OVERHEAD, parse_form

    form = parse_form(request, max_bytes=_DALLE_MAX_BYTES + FORM_OVERHEAD)
    image = form.require_file("image")
    params = Params.from_form(form)
    params.check_known(_VARIATION_PARAMS, [name for name in form.files if name != "image"])
    spec, _ = _model(engine, params, "dall-e-2")
    rules = _rules(spec, "image variations")
    if rules.family != "dall-e-2":
        raise ApiError(
            400,
            f"Invalid model '{spec.id}': image variations are made by dall-e-2 only.",
            param="model",
            code="invalid_value",
        )
    opts = _options(engine, params, "image variations", "dall-e-2")
    info = _read_upload(image, "image", ("png",), _DALLE_MAX_BYTES, "the image")
    _check_dalle_image(info, "image", need_alpha=False)
    key = hashlib.blake2b(image.data, digest_size=8).hexdigest()
    return _respond(engine, request, opts, None, ("variation", key), sources=[info])
