"""Request bodies as pydantic models, validated with OpenAI's types, ranges and enums.

Top-level unknown keys are rejected as OpenAI does ("Unrecognized request
argument supplied"); vLLM/NIM extensions that OpenAI-compatible servers accept
(``ignore_eos``, ``min_tokens``, ``top_k``, ...) are known fields.  Nested
objects are open, as the real API tolerates extra keys there.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Discriminator, Field, Tag

from .validation import MISSING_TAG

__all__ = [
    "ChatRequest",
    "CompletionRequest",
    "Message",
    "StreamOptions",
]


class _Open(BaseModel):
    model_config = ConfigDict(strict=True, extra="allow", frozen=True)


class _Closed(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid", frozen=True)


def _is(value: Any) -> str | None:
    if isinstance(value, str):
        return "is=str"
    if isinstance(value, list):
        return "is=list"
    return None


def _role(value: Any) -> str | None:
    if isinstance(value, dict):
        role = value.get("role", MISSING_TAG)
        return f"role={role}"
    if isinstance(value, BaseModel):
        return f"role={getattr(value, 'role', MISSING_TAG)}"
    return None


def _type(value: Any) -> str | None:
    if isinstance(value, dict):
        return f"type={value.get('type', MISSING_TAG)}"
    if isinstance(value, BaseModel):
        return f"type={getattr(value, 'type', MISSING_TAG)}"
    return None


# -- content parts ------------------------------------------------------------------------------
class TextPart(_Open):
    type: Literal["text"]
    text: str


class ImageURL(_Open):
    url: str
    detail: Literal["auto", "low", "high"] | None = None


class ImagePart(_Open):
    type: Literal["image_url"]
    image_url: ImageURL


class InputAudio(_Open):
    data: str
    format: Literal["wav", "mp3"]


class AudioPart(_Open):
    type: Literal["input_audio"]
    input_audio: InputAudio


class FilePart(_Open):
    type: Literal["file"]
    file: dict[str, Any]


class RefusalPart(_Open):
    type: Literal["refusal"]
    refusal: str


UserPart = Annotated[
    Annotated[TextPart, Tag("type=text")]
    | Annotated[ImagePart, Tag("type=image_url")]
    | Annotated[AudioPart, Tag("type=input_audio")]
    | Annotated[FilePart, Tag("type=file")],
    Discriminator(_type),
]
AssistantPart = Annotated[
    Annotated[TextPart, Tag("type=text")] | Annotated[RefusalPart, Tag("type=refusal")],
    Discriminator(_type),
]


_CONTENT_ERROR = "one of a string or array of objects"
TextContent = Annotated[
    Annotated[str, Tag("is=str")] | Annotated[list[TextPart], Tag("is=list"), Field(min_length=1)],
    Discriminator(_is, custom_error_type="invalid_type", custom_error_message=_CONTENT_ERROR),
]
UserContent = Annotated[
    Annotated[str, Tag("is=str")] | Annotated[list[UserPart], Tag("is=list"), Field(min_length=1)],
    Discriminator(_is, custom_error_type="invalid_type", custom_error_message=_CONTENT_ERROR),
]
AssistantContent = Annotated[
    Annotated[str, Tag("is=str")] | Annotated[list[AssistantPart], Tag("is=list")],
    Discriminator(_is, custom_error_type="invalid_type", custom_error_message=_CONTENT_ERROR),
]


# -- messages -----------------------------------------------------------------------------------
class FunctionCall(_Open):
    name: str
    arguments: str


class ToolCall(_Open):
    id: str
    type: Literal["function", "custom"] = "function"
    function: FunctionCall | None = None
    custom: dict[str, Any] | None = None


class SystemMessage(_Open):
    role: Literal["system"]
    content: TextContent
    name: str | None = None


class DeveloperMessage(_Open):
    role: Literal["developer"]
    content: TextContent
    name: str | None = None


class UserMessage(_Open):
    role: Literal["user"]
    content: UserContent
    name: str | None = None


class AssistantMessage(_Open):
    role: Literal["assistant"]
    content: AssistantContent | None = None
    name: str | None = None
    refusal: str | None = None
    tool_calls: list[ToolCall] | None = None
    function_call: FunctionCall | None = None
    audio: dict[str, Any] | None = None


class ToolMessage(_Open):
    role: Literal["tool"]
    content: TextContent
    tool_call_id: str


class FunctionMessage(_Open):
    role: Literal["function"]
    content: str | None
    name: str


Message = Annotated[
    Annotated[SystemMessage, Tag("role=system")]
    | Annotated[DeveloperMessage, Tag("role=developer")]
    | Annotated[UserMessage, Tag("role=user")]
    | Annotated[AssistantMessage, Tag("role=assistant")]
    | Annotated[ToolMessage, Tag("role=tool")]
    | Annotated[FunctionMessage, Tag("role=function")],
    Discriminator(_role),
]


# -- tools, formats, options --------------------------------------------------------------------
class FunctionDef(_Open):
    name: Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[a-zA-Z0-9_-]+$")]
    description: str | None = None
    parameters: dict[str, Any] | None = None
    strict: bool | None = None


class FunctionTool(_Open):
    type: Literal["function"]
    function: FunctionDef


class CustomTool(_Open):
    type: Literal["custom"]
    custom: dict[str, Any]


Tool = Annotated[
    Annotated[FunctionTool, Tag("type=function")] | Annotated[CustomTool, Tag("type=custom")],
    Discriminator(_type),
]


class NamedFunction(_Open):
    name: str


class NamedToolChoice(_Open):
    type: Literal["function", "custom", "allowed_tools"]
    function: NamedFunction | None = None
    custom: dict[str, Any] | None = None
    allowed_tools: dict[str, Any] | None = None


class JsonSchemaFormat(_Open):
    name: Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[a-zA-Z0-9_-]+$")]
    description: str | None = None
    schema_: dict[str, Any] | None = Field(default=None, alias="schema")
    strict: bool | None = None


class ResponseFormat(_Open):
    type: Literal["text", "json_object", "json_schema"]
    json_schema: JsonSchemaFormat | None = None


class StreamOptions(_Open):
    include_usage: bool | None = None
    include_obfuscation: bool | None = None


Stop = Annotated[
    Annotated[str, Tag("is=str")] | Annotated[list[str], Tag("is=list"), Field(max_length=4)],
    Discriminator(_is, custom_error_type="invalid_type", custom_error_message="one of a string or array of strings"),
]

Penalty = Annotated[float, Field(ge=-2, le=2)]


class _Sampling(_Closed):
    """Parameters shared by chat and legacy completions (plus vLLM/NIM extensions)."""

    model: str
    frequency_penalty: Penalty | None = None
    presence_penalty: Penalty | None = None
    logit_bias: dict[str, Annotated[int, Field(ge=-100, le=100)]] | None = None
    max_tokens: Annotated[int, Field(ge=1)] | None = None
    n: Annotated[int, Field(ge=1, le=128)] | None = None
    seed: int | None = None
    stop: Stop | None = None
    stream: bool | None = None
    stream_options: StreamOptions | None = None
    temperature: Annotated[float, Field(ge=0, le=2)] | None = None
    top_p: Annotated[float, Field(ge=0, le=1)] | None = None
    user: str | None = None
    # vLLM / NIM extensions
    ignore_eos: bool | None = None
    min_tokens: Annotated[int, Field(ge=0)] | None = None
    top_k: int | None = None
    min_p: Annotated[float, Field(ge=0, le=1)] | None = None
    repetition_penalty: Annotated[float, Field(gt=0)] | None = None
    include_stop_str_in_output: bool | None = None
    skip_special_tokens: bool | None = None
    spaces_between_special_tokens: bool | None = None
    nvext: dict[str, Any] | None = None


class ChatRequest(_Sampling):
    messages: Annotated[list[Message], Field(min_length=1)]
    audio: dict[str, Any] | None = None
    function_call: str | NamedFunction | None = None
    functions: list[FunctionDef] | None = None
    logprobs: bool | None = None
    max_completion_tokens: Annotated[int, Field(ge=1)] | None = None
    metadata: dict[str, str] | None = None
    modalities: list[Literal["text", "audio"]] | None = None
    parallel_tool_calls: bool | None = None
    prediction: dict[str, Any] | None = None
    prompt_cache_key: str | None = None
    prompt_cache_retention: Literal["in-memory", "24h"] | None = None
    reasoning_effort: Literal["none", "minimal", "low", "medium", "high", "xhigh"] | None = None
    response_format: ResponseFormat | None = None
    safety_identifier: str | None = None
    service_tier: Literal["auto", "default", "flex", "scale", "priority"] | None = None
    store: bool | None = None
    tool_choice: Literal["none", "auto", "required"] | NamedToolChoice | None = None
    tools: list[Tool] | None = None
    top_logprobs: Annotated[int, Field(ge=0, le=20)] | None = None
    verbosity: Literal["low", "medium", "high"] | None = None
    web_search_options: dict[str, Any] | None = None
    chat_template_kwargs: dict[str, Any] | None = None


Prompt = Annotated[
    Annotated[str, Tag("is=str")] | Annotated[list[str | int | list[int]], Tag("is=list")],
    Discriminator(
        _is,
        custom_error_type="invalid_type",
        custom_error_message="one of a string, array of strings, array of integers or array of arrays of integers",
    ),
]


class CompletionRequest(_Sampling):
    prompt: Prompt | None
    best_of: Annotated[int, Field(ge=0, le=20)] | None = None
    echo: bool | None = None
    logprobs: Annotated[int, Field(ge=0, le=5)] | None = None
    suffix: str | None = None
