"""Request bodies of the Responses API (``/v1/responses``, ``/v1/responses/input_tokens``).

Top-level unknown keys are rejected (OpenAI's "Unknown parameter"); nested objects
are open, as the real API tolerates extra keys there.  Input items are a two-level
tagged union: by ``type`` (a missing ``type`` is a message, as in OpenAI's "easy"
message form), then messages by ``role``, so an error names the field the way
OpenAI does (``input[0].content[1].type``).  Tools and ``tool_choice`` accept every
type OpenAI defines; which of them the simulator serves is the handler's decision,
so that an unsimulated hosted tool gets a clear 400 instead of a type error; ``file_search``
(simulated) is validated here like a function tool.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any, Literal, Union

from pydantic import BaseModel, Discriminator, Field, Tag

from .validation import MISSING_TAG
from .wire import _Closed, _is, _Open  # the models' shared bases
from .wire_vector_stores import FilterParam

__all__ = [
    "HOSTED_TOOL_TYPES",
    "AssistantMessage",
    "FileSearchCallItem",
    "FileSearchRanking",
    "FileSearchTool",
    "FunctionCallItem",
    "FunctionCallOutputItem",
    "FunctionTool",
    "HostedTool",
    "InputFile",
    "InputImage",
    "InputMessage",
    "InputText",
    "ItemReference",
    "OutputText",
    "ReasoningItem",
    "ReasoningParam",
    "RefusalPart",
    "ResponseRequest",
    "TextConfig",
    "TokenCountRequest",
    "ToolChoiceObject",
]


def _type(value: Any) -> str | None:
    """Union tag of an input item or a part: its ``type`` (an item without one is a message)."""
    if isinstance(value, dict):
        implied = "message" if "role" in value or "content" in value else MISSING_TAG
        return f"type={value.get('type', implied)}"
    if isinstance(value, BaseModel):
        return f"type={getattr(value, 'type', None) or 'message'}"
    return None


def _role(value: Any) -> str | None:
    if isinstance(value, dict):
        return f"role={value.get('role', MISSING_TAG)}"
    if isinstance(value, BaseModel):
        return f"role={getattr(value, 'role', MISSING_TAG)}"
    return None


_CONTENT_ERROR = "one of a string or array of objects"


# -- content parts ------------------------------------------------------------------------------
class InputText(_Open):
    type: Literal["input_text"]
    text: str


class InputImage(_Open):
    type: Literal["input_image"]
    image_url: str | None = None
    file_id: str | None = None
    detail: Literal["low", "high", "auto", "original"] | None = None


class InputFile(_Open):
    type: Literal["input_file"]
    file_id: str | None = None
    file_data: str | None = None
    file_url: str | None = None
    filename: str | None = None
    detail: Literal["low", "high", "auto"] | None = None


class OutputText(_Open):
    type: Literal["output_text"]
    text: str
    annotations: list[Any] | None = None
    logprobs: list[Any] | None = None


class RefusalPart(_Open):
    type: Literal["refusal"]
    refusal: str


InputPart = Annotated[
    Annotated[InputText, Tag("type=input_text")]
    | Annotated[InputImage, Tag("type=input_image")]
    | Annotated[InputFile, Tag("type=input_file")],
    Discriminator(_type),
]
OutputPart = Annotated[
    Annotated[OutputText, Tag("type=output_text")] | Annotated[RefusalPart, Tag("type=refusal")],
    Discriminator(_type),
]
InputContent = Annotated[
    Annotated[str, Tag("is=str")] | Annotated[list[InputPart], Tag("is=list")],
    Discriminator(_is, custom_error_type="invalid_type", custom_error_message=_CONTENT_ERROR),
]
OutputContent = Annotated[
    Annotated[str, Tag("is=str")] | Annotated[list[OutputPart], Tag("is=list")],
    Discriminator(_is, custom_error_type="invalid_type", custom_error_message=_CONTENT_ERROR),
]
_Status = Literal["in_progress", "completed", "incomplete"]


# -- input items --------------------------------------------------------------------------------
class InputMessage(_Open):
    """A user, system or developer message (the "easy" form or a typed ``message`` item)."""

    type: Literal["message"] | None = None
    role: Literal["user", "system", "developer"]
    content: InputContent
    id: str | None = None
    status: _Status | None = None


class AssistantMessage(_Open):
    """An assistant message given back as input (a string, or ``output_text`` / ``refusal`` parts)."""

    type: Literal["message"] | None = None
    role: Literal["assistant"]
    content: OutputContent
    id: str | None = None
    status: _Status | None = None
    phase: str | None = None


Message = Annotated[
    Annotated[InputMessage, Tag("role=user")]
    | Annotated[InputMessage, Tag("role=system")]
    | Annotated[InputMessage, Tag("role=developer")]
    | Annotated[AssistantMessage, Tag("role=assistant")],
    Discriminator(_role),
]


class FunctionCallItem(_Open):
    type: Literal["function_call"]
    call_id: Annotated[str, Field(min_length=1)]
    name: Annotated[str, Field(min_length=1)]
    arguments: str
    id: str | None = None
    status: _Status | None = None


class FunctionCallOutputItem(_Open):
    type: Literal["function_call_output"]
    call_id: Annotated[str, Field(min_length=1, max_length=64)]
    output: InputContent
    id: str | None = None
    status: _Status | None = None


class ReasoningItem(_Open):
    type: Literal["reasoning"]
    id: str | None = None
    summary: list[dict[str, Any]] = Field(default_factory=list)
    content: list[dict[str, Any]] | None = None
    encrypted_content: str | None = None
    status: _Status | None = None


class FileSearchCallItem(_Open):
    """A ``file_search_call`` output item given back as input (it is not read again)."""

    type: Literal["file_search_call"]
    id: str
    queries: list[str]
    status: Literal["in_progress", "searching", "completed", "incomplete", "failed"]
    results: list[dict[str, Any]] | None = None


class ItemReference(_Open):
    type: Literal["item_reference"]
    id: str


InputItem = Annotated[
    Annotated[Message, Tag("type=message")]
    | Annotated[FunctionCallItem, Tag("type=function_call")]
    | Annotated[FunctionCallOutputItem, Tag("type=function_call_output")]
    | Annotated[ReasoningItem, Tag("type=reasoning")]
    | Annotated[FileSearchCallItem, Tag("type=file_search_call")]
    | Annotated[ItemReference, Tag("type=item_reference")],
    Discriminator(_type),
]
Input = Annotated[
    Annotated[str, Tag("is=str")] | Annotated[list[InputItem], Tag("is=list")],
    Discriminator(_is, custom_error_type="invalid_type", custom_error_message=_CONTENT_ERROR),
]


# -- tools, formats, options --------------------------------------------------------------------
class FunctionTool(_Open):
    type: Literal["function"]
    name: Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[a-zA-Z0-9_-]+$")]
    description: str | None = None
    parameters: dict[str, Any] | None = None
    strict: bool | None = None


class FileSearchHybrid(_Open):
    embedding_weight: Annotated[float, Field(ge=0, allow_inf_nan=False)]
    text_weight: Annotated[float, Field(ge=0, allow_inf_nan=False)]


class FileSearchRanking(_Open):
    ranker: Literal["auto", "default-2024-11-15"] | None = None
    score_threshold: Annotated[float, Field(ge=0, le=1)] | None = None
    hybrid_search: FileSearchHybrid | None = None


class FileSearchTool(_Open):
    """The hosted ``file_search`` tool: search these vector stores (api/responses_file_search.py)."""

    type: Literal["file_search"]
    vector_store_ids: Annotated[list[str], Field(min_length=1)]
    max_num_results: Annotated[int, Field(ge=1, le=50)] | None = None
    filters: FilterParam | None = None
    ranking_options: FileSearchRanking | None = None


class HostedTool(_Open):
    """Any tool type other than ``function`` (web_search, file_search, mcp, ...): judged by the handler."""

    type: str


#: Every tool type OpenAI defines besides ``function`` (the spec's ``Tool`` union).
HOSTED_TOOL_TYPES = (
    "file_search",
    "computer",
    "computer_use_preview",
    "web_search",
    "web_search_2025_08_26",
    "mcp",
    "code_interpreter",
    "programmatic_tool_calling",
    "image_generation",
    "local_shell",
    "shell",
    "custom",
    "namespace",
    "tool_search",
    "web_search_preview",
    "web_search_preview_2025_03_11",
    "apply_patch",
)
if TYPE_CHECKING:
    Tool = FunctionTool | FileSearchTool | HostedTool
else:  # one tag per type: an unknown type is answered with the list of OpenAI's tool types
    Tool = Annotated[
        Annotated[FunctionTool, Tag("type=function")]
        | Annotated[FileSearchTool, Tag("type=file_search")]
        | Union[  # noqa: UP007
            tuple(Annotated[HostedTool, Tag(f"type={t}")] for t in HOSTED_TOOL_TYPES if t != "file_search")
        ],
        Discriminator(_type),
    ]


class ToolChoiceObject(_Open):
    type: str
    name: str | None = None
    mode: Literal["auto", "required"] | None = None
    tools: list[dict[str, Any]] | None = None


class FormatText(_Open):
    type: Literal["text"]


class FormatJsonObject(_Open):
    type: Literal["json_object"]


class FormatJsonSchema(_Open):
    type: Literal["json_schema"]
    name: Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[a-zA-Z0-9_-]+$")]
    schema_: dict[str, Any] = Field(alias="schema")
    description: str | None = None
    strict: bool | None = None


TextFormat = Annotated[
    Annotated[FormatText, Tag("type=text")]
    | Annotated[FormatJsonObject, Tag("type=json_object")]
    | Annotated[FormatJsonSchema, Tag("type=json_schema")],
    Discriminator(_type),
]


class TextConfig(_Open):
    format: TextFormat | None = None
    verbosity: Literal["low", "medium", "high"] | None = None


_Summary = Literal["auto", "concise", "detailed"]


class ReasoningParam(_Open):
    effort: Literal["none", "minimal", "low", "medium", "high", "xhigh", "max"] | None = None
    summary: _Summary | None = None
    generate_summary: _Summary | None = None


class StreamOptions(_Open):
    include_obfuscation: bool | None = None


Includable = Literal[
    "file_search_call.results",
    "web_search_call.results",
    "web_search_call.action.sources",
    "message.input_image.image_url",
    "computer_call_output.output.image_url",
    "code_interpreter_call.outputs",
    "reasoning.encrypted_content",
    "message.output_text.logprobs",
]
ToolChoice = Literal["none", "auto", "required"] | ToolChoiceObject


class _Context(_Closed):
    """What both creating a response and counting its input tokens take."""

    model: str
    input: Input | None = None
    instructions: str | None = None
    previous_response_id: str | None = None
    tools: list[Tool] | None = None
    tool_choice: ToolChoice | None = None
    parallel_tool_calls: bool | None = None
    text: TextConfig | None = None
    reasoning: ReasoningParam | None = None
    truncation: Literal["auto", "disabled"] | None = None
    conversation: Any = None


class ResponseRequest(_Context):
    background: bool | None = None
    include: list[Includable] | None = None
    max_output_tokens: Annotated[int, Field(ge=16)] | None = None
    max_tool_calls: Annotated[int, Field(ge=1)] | None = None
    metadata: dict[str, str] | None = None
    prompt: Any = None
    prompt_cache_key: str | None = None
    prompt_cache_retention: Literal["in_memory", "24h"] | None = None
    safety_identifier: Annotated[str, Field(max_length=64)] | None = None
    service_tier: Literal["auto", "default", "flex", "scale", "priority", "fast", "ultrafast"] | None = None
    store: bool | None = None
    stream: bool | None = None
    stream_options: StreamOptions | None = None
    temperature: Annotated[float, Field(ge=0, le=2)] | None = None
    top_logprobs: Annotated[int, Field(ge=0, le=20)] | None = None
    top_p: Annotated[float, Field(ge=0, le=1)] | None = None
    user: str | None = None
    # accepted and without effect in the simulator (documented in docs/responses.md)
    access_programs: Any = None
    background_options: Any = None
    context_management: Any = None
    image: Any = None
    prompt_cache_options: Any = None
    # known, but refused by the handler: the simulator does not do these
    moderation: Any = None


class TokenCountRequest(_Context):
    personality: Any = None
