"""Scripted replies: ``fakeai.on(**conditions).reply(...)`` (docs/scripting.md).

A :class:`Script` holds :class:`Rule` objects in registration order.  When the
first rule is registered the script puts itself in front of the routes its
rules target (chat and legacy completions, or a path a rule names), so a
simulator without rules does no scripting work at all.  For each valid request
on those routes the first matching rule that is not used up answers with its
next :class:`Reply`; a request no rule answers goes to the generator, and is
remembered for :meth:`Script.assert_all_used`'s report.

What a reply *means* on the wire (chunks, usage, tool-call ids) is the
endpoint's business: this module only decides which reply answers.
"""

from __future__ import annotations

import copy
import fnmatch
import json as jsonlib
import re
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from .errors import ApiError

if TYPE_CHECKING:
    from .router import Handler, Router
    from .types import ApiRequest, ApiResponse

__all__ = [
    "CHAT_PATH",
    "COMPLETIONS_PATH",
    "CONDITIONS",
    "EMBEDDINGS_PATH",
    "MODERATIONS_PATH",
    "Reply",
    "Rule",
    "Script",
    "make_reply",
    "scripted_error",
]

CHAT_PATH = "/v1/chat/completions"
COMPLETIONS_PATH = "/v1/completions"
MODERATIONS_PATH = "/v1/moderations"
RESPONSES_PATH = "/v1/responses"
REALTIME_PATH = "/v1/realtime"
EMBEDDINGS_PATH = "/v1/embeddings"
_NAMES = {
    "chat": CHAT_PATH,
    "completions": COMPLETIONS_PATH,
    "moderations": MODERATIONS_PATH,
    "responses": RESPONSES_PATH,
    "realtime": REALTIME_PATH,
}
_INPUT_PATHS = (MODERATIONS_PATH, EMBEDDINGS_PATH)  # requests whose ``input`` rules read
# What a rule without endpoint= answers.  Responses and Realtime requests reach the rules as
# chat-shaped data ({"model", "messages", "tools"}), so conditions read them like chat.
_TEXT_PATHS = (CHAT_PATH, COMPLETIONS_PATH, RESPONSES_PATH, REALTIME_PATH)
_CHAT_LIKE = (CHAT_PATH, RESPONSES_PATH, REALTIME_PATH)

#: The keyword arguments ``on()`` accepts.
CONDITIONS = ("endpoint", "model", "contains", "matches", "has_tools", "after_tool", "where")
_REPLY_KEYS = ("text", "tool_call", "tool_calls", "json", "refusal", "error", "flagged")
_UNSET: Any = object()
_MAX_UNMATCHED = 50  # requests kept for the report (the count is exact)

ReplyKind = Literal["text", "tool_calls", "json", "refusal", "error", "function", "flagged"]


# -- replies ------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Reply:
    """One scripted answer.  Built by :meth:`Rule.reply`; endpoints read the fields of their kind.

    ``tool_calls`` holds ``(name, arguments)`` pairs, ``arguments`` being the JSON text to send,
    or None for arguments the simulator generates from the request's tool schema.
    """

    kind: ReplyKind
    text: str = ""
    tool_calls: tuple[tuple[str, str | None], ...] = ()
    value: Any = None
    status: int = 0
    message: str | None = None
    function: Callable[[dict[str, Any]], Any] | None = None

    @property
    def content(self) -> str:
        """The visible text: the text, the refusal, or the JSON value serialised."""
        if self.kind == "json":
            return jsonlib.dumps(self.value, ensure_ascii=False, separators=(",", ":"))
        return self.text

    def describe(self) -> str:
        if self.kind == "text" or self.kind == "refusal":
            return f"{self.kind} {_clip(self.text)!r}"
        if self.kind == "json":
            return f"json {_clip(self.content)}"
        if self.kind == "tool_calls":
            calls = ", ".join(
                f"{name}({'<generated>' if args is None else _clip(args, 40)})" for name, args in self.tool_calls
            )
            return f"tool_call{'s' if len(self.tool_calls) > 1 else ''} {calls}"
        if self.kind == "error":
            return f"error {self.status}" + (f" {self.message!r}" if self.message else "")
        if self.kind == "flagged":
            return "flagged " + (", ".join(self.value) or "nothing")
        return f"function {getattr(self.function, '__name__', repr(self.function))}"


def _clip(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _tool_call(spec: Any, where: str) -> tuple[str, str | None]:
    """``"name"``, ``("name", {args})``, ``("name", '{"raw": "json"}')`` or ``("name", None)``."""
    if isinstance(spec, str):
        name, args = spec, None
    elif isinstance(spec, Sequence) and len(spec) == 2 and isinstance(spec[0], str):
        name, args = spec[0], spec[1]
    else:
        raise TypeError(f"{where}: a tool call is ('name', {{arguments}}) or 'name', not {spec!r}")
    if not name:
        raise ValueError(f"{where}: the tool name is empty")
    if args is None or isinstance(args, str):
        return name, args
    if not isinstance(args, Mapping):
        raise TypeError(f"{where}: the arguments of {name!r} must be a dict, a JSON string or None, not {args!r}")
    try:
        return name, jsonlib.dumps(dict(args), ensure_ascii=False, separators=(",", ":"))
    except (TypeError, ValueError) as exc:
        raise TypeError(f"{where}: the arguments of {name!r} are not JSON-serialisable: {exc}") from None


def _error_spec(error: Any, where: str) -> tuple[int, str | None]:
    status: Any = error
    message: Any = None
    if isinstance(error, tuple):
        if len(error) != 2:
            raise ValueError(f"{where}: error= takes a status or (status, message), not {error!r}")
        status, message = error
    if isinstance(status, bool) or not isinstance(status, int) or not 400 <= status <= 599:
        raise ValueError(f"{where}: error= takes an HTTP status 400-599 or (status, message), not {error!r}")
    if message is not None and not isinstance(message, str):
        raise TypeError(f"{where}: the error message must be a string, not {message!r}")
    return status, message


def make_reply(
    text: Any = _UNSET,
    *,
    tool_call: Any = _UNSET,
    tool_calls: Any = _UNSET,
    json: Any = _UNSET,
    refusal: Any = _UNSET,
    error: Any = _UNSET,
    flagged: Any = _UNSET,
    where: str = "reply()",
) -> Reply:
    """A :class:`Reply` from exactly one of ``reply()``'s forms."""
    given = {
        k: v
        for k, v in (
            ("text", text),
            ("tool_call", tool_call),
            ("tool_calls", tool_calls),
            ("json", json),
            ("refusal", refusal),
            ("error", error),
            ("flagged", flagged),
        )
        if v is not _UNSET
    }
    if len(given) != 1:
        forms = ", ".join(f"{k}=" for k in _REPLY_KEYS[1:])
        raise TypeError(
            f"{where} takes exactly one reply: a text, a function, or one of {forms} "
            f"(got {', '.join(given) or 'nothing'})"
        )
    ((key, value),) = given.items()
    if key == "text":
        if callable(value):
            return Reply("function", function=value)
        if not isinstance(value, str):
            raise TypeError(f"{where}: a text reply must be a string (or a function), not {value!r}")
        return Reply("text", text=value)
    if key == "tool_call":
        return Reply("tool_calls", tool_calls=(_tool_call(value, where),))
    if key == "tool_calls":
        if isinstance(value, str | bytes) or not isinstance(value, Sequence) or not value:
            raise TypeError(f"{where}: tool_calls= takes a non-empty list of ('name', {{arguments}}), not {value!r}")
        return Reply("tool_calls", tool_calls=tuple(_tool_call(v, where) for v in value))
    if key == "json":
        try:
            jsonlib.dumps(value)
        except (TypeError, ValueError) as exc:
            raise TypeError(f"{where}: json= must be JSON-serialisable: {exc}") from None
        return Reply("json", value=value)
    if key == "refusal":
        if not isinstance(value, str) or not value:
            raise TypeError(f"{where}: refusal= takes the refusal text, not {value!r}")
        return Reply("refusal", text=value)
    if key == "flagged":
        return Reply("flagged", value=_flagged(value, where))
    status, message = _error_spec(value, where)
    return Reply("error", status=status, message=message)


def _flagged(value: Any, where: str) -> tuple[str, ...]:
    """``flagged=``: a moderation category or a list of them (empty: nothing flagged)."""
    from .moderations import CATEGORIES

    names = [value] if isinstance(value, str) else value
    if isinstance(names, bytes) or not isinstance(names, Sequence | set | frozenset):
        raise TypeError(f"{where}: flagged= takes a list of moderation categories, not {value!r}")
    unknown = [n for n in names if n not in CATEGORIES]
    if unknown:
        raise ValueError(
            f"{where}: unknown moderation categor{'ies' if len(unknown) > 1 else 'y'} "
            f"{', '.join(map(repr, unknown))}; the categories are {', '.join(CATEGORIES)}"
        )
    return tuple(c for c in CATEGORIES if c in names)


def _from_function(result: Any, fn: Any) -> Reply | None:
    """What a reply function returned, as a reply (None: the generator answers)."""
    where = f"the reply function {getattr(fn, '__name__', repr(fn))}"
    if result is None:
        return None
    if isinstance(result, str):
        return Reply("text", text=result)
    if isinstance(result, Reply) and result.kind != "function":
        return result
    if isinstance(result, Mapping):
        unknown = [k for k in result if k not in _REPLY_KEYS]
        if unknown or len(result) != 1:
            raise TypeError(
                f"{where} returned {result!r}: return a str, None, or a dict with one key of {', '.join(_REPLY_KEYS)}"
            )
        ((key, value),) = result.items()
        if key == "text" and not isinstance(value, str):
            raise TypeError(f"{where} returned a text that is not a string: {value!r}")
        return make_reply(**{key: value}, where=where)
    raise TypeError(f"{where} returned {result!r}: return a str, None, or a dict like {{'tool_call': ...}}")


# -- errors -------------------------------------------------------------------------------------
#: a scripted status -> the fault kind whose error the real service sends for it (api/faults.py)
_KIND_OF_STATUS = {
    401: "invalid_api_key",
    403: "permission_denied",
    404: "model_not_found",
    408: "request_timeout",
    409: "conflict",
    429: "rate_limit_requests",
    500: "server_error",
    502: "bad_gateway",
    503: "overloaded",
    504: "gateway_timeout",
}


def scripted_error(status: int, message: str | None, *, model: str = "", api_key: str = "") -> ApiError:
    """The error OpenAI sends for ``status`` (../shared/FIDELITY.md; the same as an injected fault of
    that status, docs/faults.md), ``message`` replacing its text."""
    from .faults import fault_error

    kind = _KIND_OF_STATUS.get(status)
    if kind is not None:
        error = fault_error(kind, model=model, api_key=api_key)
    elif status == 400:
        error = ApiError(400, "Invalid request: the request was rejected (a scripted error).")
    elif status >= 500:
        error = ApiError(
            status, "The server had an error while processing your request. Sorry about that!", type="server_error"
        )
    else:
        error = ApiError(status, f"The request was rejected with status {status} (a scripted error).")
    if message is not None:
        error.message = message
    return error


# -- what a rule looks at -----------------------------------------------------------------------
def _text_of(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "\n".join(
            str(p.get("text", "")) for p in content if isinstance(p, dict) and p.get("type") in ("text", "input_text")
        )
    return ""


class _View:
    """One request as rules see it; each property is computed once, and only if a rule asks."""

    __slots__ = ("_answered", "_turn", "_turn_done", "data", "path")

    def __init__(self, path: str, data: dict[str, Any]) -> None:
        self.path = path
        self.data = data
        self._turn: str | None = None
        self._turn_done = False
        self._answered: frozenset[str] | None = None

    @property
    def turn(self) -> str | None:
        """The text the model is answering: the last message if it is the user's; a legacy prompt."""
        if not self._turn_done:
            self._turn_done = True
            if self.path in _CHAT_LIKE:
                messages = self.data.get("messages") or []
                if messages and isinstance(messages[-1], dict) and messages[-1].get("role") == "user":
                    self._turn = _text_of(messages[-1].get("content"))
            elif self.path == COMPLETIONS_PATH:
                prompt = self.data.get("prompt")
                if isinstance(prompt, str):
                    self._turn = prompt
                elif isinstance(prompt, list) and all(isinstance(p, str) for p in prompt):
                    self._turn = "\n".join(prompt)
            elif self.path in _INPUT_PATHS:
                given = self.data.get("input")
                if isinstance(given, list) and all(isinstance(p, str) for p in given):
                    self._turn = "\n".join(given)
                elif isinstance(given, str | list):
                    self._turn = _text_of(given)
        return self._turn

    @property
    def has_tools(self) -> bool:
        return bool(self.data.get("tools") or self.data.get("functions"))

    @property
    def answered_tools(self) -> frozenset[str]:
        """Names of the tools whose results end the conversation (the trailing ``tool`` messages)."""
        if self._answered is None:
            names: set[str] = set()
            messages = (self.data.get("messages") or []) if self.path in _CHAT_LIKE else []
            ids: set[str] = set()
            i = len(messages) - 1
            while i >= 0 and isinstance(messages[i], dict) and messages[i].get("role") in ("tool", "function"):
                if messages[i].get("role") == "function":
                    names.add(str(messages[i].get("name")))
                else:
                    ids.add(str(messages[i].get("tool_call_id")))
                i -= 1
            if ids and i >= 0 and isinstance(messages[i], dict):
                for call in messages[i].get("tool_calls") or ():
                    if isinstance(call, dict) and call.get("id") in ids:
                        names.add(str((call.get("function") or {}).get("name")))
            self._answered = frozenset(names)
        return self._answered

    def describe(self) -> str:
        what = {v: k for k, v in _NAMES.items()}.get(self.path, self.path)
        out = f"{what} model={self.data.get('model')!r}"
        if self.turn is not None:
            label = "prompt" if self.path == COMPLETIONS_PATH else "input" if self.path in _INPUT_PATHS else "user"
            out += f" {label}: {_clip(self.turn)!r}"
        elif self.answered_tools:
            out += f" after tool result(s) of {', '.join(sorted(self.answered_tools))}"
        elif self.path in _CHAT_LIKE and self.data.get("messages"):
            last = self.data["messages"][-1]
            out += f" last message: {last.get('role') if isinstance(last, dict) else last!r}"
        if self.has_tools:
            out += " (with tools)"
        return out


# -- rules --------------------------------------------------------------------------------------
class Rule:
    """Conditions, and the replies given to requests that meet them (see docs/scripting.md)."""

    def __init__(self, script: Script, conditions: dict[str, Any]) -> None:
        self._script = script
        self.conditions = dict(conditions)
        self.replies: list[Reply] = []
        self.limit: int | None = None
        self.used = 0
        path = conditions.get("endpoint")
        self.path: str | None = None if path is None else _endpoint_path(path)
        pattern = conditions.get("matches")
        self._regex: re.Pattern[str] | None = None if pattern is None else re.compile(pattern)
        self._model: str | None = conditions.get("model")
        self._glob = self._model is not None and any(c in self._model for c in "*?[")

    # -- building ----------------------------------------------------------------------------
    def reply(
        self,
        text: str | Callable[[dict[str, Any]], Any] = _UNSET,
        /,
        *,
        tool_call: Any = _UNSET,
        tool_calls: Any = _UNSET,
        json: Any = _UNSET,
        refusal: Any = _UNSET,
        error: Any = _UNSET,
        flagged: Any = _UNSET,
    ) -> Rule:
        """Add a reply; several replies are given in order, the last one repeating."""
        where = f"{self.describe()}.reply()"
        made = make_reply(
            text,
            tool_call=tool_call,
            tool_calls=tool_calls,
            json=json,
            refusal=refusal,
            error=error,
            flagged=flagged,
            where=where,
        )
        self._check_fits(made, where)
        with self._script.lock:
            if self.limit is not None and len(self.replies) >= self.limit:
                raise ValueError(f"{where}: the rule answers at most {self.limit} time(s); this reply would never run")
            self.replies.append(made)
        return self

    def times(self, n: int) -> Rule:
        """Answer at most ``n`` requests in all; then the next rule (or the generator) answers."""
        if isinstance(n, bool) or not isinstance(n, int) or n < 1:
            raise ValueError(f"{self.describe()}.times(): n must be an integer >= 1, not {n!r}")
        if n < len(self.replies):
            raise ValueError(
                f"{self.describe()}.times({n}): the rule has {len(self.replies)} replies; {n} answers would leave "
                "some unused"
            )
        self.limit = n
        return self

    def once(self) -> Rule:
        """``times(1)``."""
        return self.times(1)

    def _check_fits(self, reply: Reply, where: str) -> None:
        if reply.kind == "flagged" and self.path != MODERATIONS_PATH:
            raise ValueError(f"{where}: flagged= answers moderations only: on(endpoint='moderations', ...)")
        if self.path is None or reply.kind in ("error", "function"):
            return
        if self.path == MODERATIONS_PATH:
            if reply.kind != "flagged":
                raise ValueError(f"{where}: only flagged= or error= replies (or a function) can answer {self.path}")
            return
        if self.path not in _TEXT_PATHS:
            raise ValueError(f"{where}: only error= replies (or a function) can answer {self.path}")
        if self.path == COMPLETIONS_PATH and reply.kind == "tool_calls":
            raise ValueError(f"{where}: legacy completions have no tool calls")

    # -- state -------------------------------------------------------------------------------
    @property
    def expected(self) -> int:
        """How many answers use the rule up: ``times(n)``, else one per reply (at least one)."""
        return self.limit if self.limit is not None else max(1, len(self.replies))

    @property
    def exhausted(self) -> bool:
        return self.limit is not None and self.used >= self.limit

    @property
    def fully_used(self) -> bool:
        return self.used >= self.expected

    def accepts(self, view: _View) -> bool:
        if self.path is None:
            if view.path not in _TEXT_PATHS:
                return False
        elif view.path != self.path:
            return False
        c = self.conditions
        if self._model is not None:
            model = view.data.get("model")
            if not isinstance(model, str):
                return False
            if model != self._model and not (self._glob and fnmatch.fnmatchcase(model, self._model)):
                return False
        if "has_tools" in c and view.has_tools != c["has_tools"]:
            return False
        if "contains" in c or self._regex is not None:
            turn = view.turn
            if turn is None:
                return False
            if "contains" in c and c["contains"] not in turn:
                return False
            if self._regex is not None and self._regex.search(turn) is None:
                return False
        if "after_tool" in c and c["after_tool"] not in view.answered_tools:
            return False
        where = c.get("where")
        return where is None or bool(where(copy.deepcopy(view.data)))

    def _next(self) -> Reply | None:
        reply = self.replies[min(self.used, len(self.replies) - 1)] if self.replies else None
        self.used += 1
        return reply

    def describe(self) -> str:
        parts = []
        for key in CONDITIONS:
            if key in self.conditions:
                value = self.conditions[key]
                if key == "where":
                    shown = getattr(value, "__name__", repr(value))
                elif isinstance(value, re.Pattern):
                    shown = repr(value.pattern)
                else:
                    shown = repr(value)
                parts.append(f"{key}={shown}")
        return f"on({', '.join(parts)})"

    def __repr__(self) -> str:
        replies = "; ".join(r.describe() for r in self.replies) or "the generator"
        limit = "" if self.limit is None else f" times={self.limit}"
        return f"<Rule {self.describe()} -> {replies}{limit} used={self.used}>"


def _endpoint_path(endpoint: Any) -> str:
    if not isinstance(endpoint, str):
        raise TypeError(
            "on(endpoint=...) takes 'chat', 'completions' or a path (or 'responses', 'realtime', 'moderations'), "
            f"not {endpoint!r}"
        )
    if endpoint in _NAMES:
        return _NAMES[endpoint]
    if endpoint.startswith("/"):
        return endpoint.rstrip("/") or "/"
    raise ValueError(
        f"on(endpoint={endpoint!r}): use 'chat', 'completions' or a path such as '/v1/embeddings' "
        "(or 'responses', 'realtime', 'moderations')"
    )


_CHECKS: dict[str, tuple[Any, str]] = {
    "model": (str, "a model name or pattern"),
    "contains": (str, "a string"),
    "matches": ((str, re.Pattern), "a regular expression"),
    "has_tools": (bool, "True or False"),
    "after_tool": (str, "a tool name"),
}


def _check_conditions(conditions: dict[str, Any]) -> None:
    unknown = sorted(set(conditions) - set(CONDITIONS))
    if unknown:
        raise TypeError(
            f"on() got unknown condition{'s' if len(unknown) > 1 else ''} {', '.join(map(repr, unknown))}; "
            f"valid conditions: {', '.join(CONDITIONS)}"
        )
    for key, (kind, what) in _CHECKS.items():
        if key in conditions and not isinstance(conditions[key], kind):
            raise TypeError(f"on({key}=...) takes {what}, not {conditions[key]!r}")
    if "where" in conditions and not callable(conditions["where"]):
        raise TypeError(f"on(where=...) takes a function of the request dict, not {conditions['where']!r}")


# -- the script ---------------------------------------------------------------------------------
class Script:
    """The rules of one simulator, and the requests none of them answered."""

    def __init__(self, router: Router) -> None:
        self._router = router
        self.rules: list[Rule] = []
        self.unmatched: list[str] = []
        self.unmatched_total = 0
        self.lock = threading.RLock()
        self._installed: set[str] = set()
        self._local = threading.local()

    def on(self, **conditions: Any) -> Rule:
        """A new rule, tried after those registered before it."""
        _check_conditions(conditions)
        rule = Rule(self, conditions)
        paths = [rule.path] if rule.path is not None else list(_TEXT_PATHS)
        with self.lock:
            for path in paths:
                self._install(path)
            self.rules.append(rule)
        return rule

    def clear(self) -> None:
        """Forget every rule and unmatched request (the routes stay scripted, answering as the generator)."""
        with self.lock:
            self.rules.clear()
            self.unmatched.clear()
            self.unmatched_total = 0

    # -- answering ---------------------------------------------------------------------------
    def answer(self, path: str, data: dict[str, Any], request: ApiRequest) -> Reply | None:
        """The reply for a valid request (None: the generator answers); an error reply is raised."""
        view = _View(path, data)
        with self.lock:
            for rule in self.rules:
                if not rule.exhausted and rule.accepts(view):
                    reply = rule._next()
                    break
            else:
                self.unmatched_total += 1
                if len(self.unmatched) < _MAX_UNMATCHED:
                    self.unmatched.append(view.describe())
                return None
        self._local.rule = rule
        if reply is not None and reply.kind == "function":
            assert reply.function is not None
            reply = _from_function(reply.function(copy.deepcopy(data)), reply.function)
        if reply is not None and reply.kind == "flagged" and path != MODERATIONS_PATH:
            raise TypeError(f"a scripted flagged= reply cannot answer {path}: flagged= answers moderations only")
        if reply is not None and reply.kind == "error":
            model = data.get("model")
            auth = request.headers.get("authorization", "")
            raise scripted_error(
                reply.status,
                reply.message,
                model=model if isinstance(model, str) else "",
                api_key=auth.removeprefix("Bearer ").strip(),
            )
        return reply

    def take_answered(self) -> Rule | None:
        """The rule that answered the request this thread just handled (and forget it)."""
        rule: Rule | None = getattr(self._local, "rule", None)
        if rule is not None:
            self._local.rule = None
        return rule

    def _install(self, path: str) -> None:
        """Put the script in front of ``path``'s handlers (once)."""
        if path in self._installed:
            return
        self._installed.add(path)
        for method in ("GET", "POST", "PUT", "PATCH", "DELETE"):
            try:
                original, bound = self._router.resolve(method, path)
            except ApiError:
                continue
            # a path a template matched (/v1/models/{model}) becomes an exact route: keep its parameters
            self._router.add(method, path, self._handler(path, original, bound))

    def _handler(self, path: str, original: Handler, bound: dict[str, str]) -> Handler:
        script = self
        if path == CHAT_PATH:

            def chat(engine: Any, request: ApiRequest, **params: Any) -> ApiResponse:
                from .chat import create_chat_completion

                return create_chat_completion(engine, request, script=script)

            return chat
        if path == COMPLETIONS_PATH:

            def completions(engine: Any, request: ApiRequest, **params: Any) -> ApiResponse:
                from .completions import create_completion

                return create_completion(engine, request, script=script)

            return completions
        if path == RESPONSES_PATH:

            def responses(engine: Any, request: ApiRequest, **params: Any) -> ApiResponse:
                from .responses import create_response

                return create_response(engine, request, script=script)

            return responses
        if path == MODERATIONS_PATH:

            def moderations(engine: Any, request: ApiRequest, **params: Any) -> ApiResponse:
                from .moderations import create_moderation

                return create_moderation(engine, request, script=script)

            return moderations

        def other(engine: Any, request: ApiRequest, **params: Any) -> ApiResponse:
            try:
                data = jsonlib.loads(request.body) if request.body else {}
            except ValueError:
                data = {}
            reply = script.answer(path, data if isinstance(data, dict) else {}, request)
            if reply is not None:
                raise TypeError(f"a scripted {reply.kind} reply cannot answer {path}: only error= replies can")
            return original(engine, request, **{**bound, **params})

        return other

    # -- checking ----------------------------------------------------------------------------
    def assert_all_used(self) -> None:
        """Raise AssertionError, listing every rule and the unanswered requests, unless all rules are used up."""
        __tracebackhide__ = True
        with self.lock:
            rules = list(self.rules)
            unmatched = list(self.unmatched)
            total = self.unmatched_total
        unused = [r for r in rules if not r.fully_used]
        if not unused:
            return
        lines = [f"fakeai: {len(unused)} of {len(rules)} scripted rule(s) not used up:"]
        for i, rule in enumerate(rules, 1):
            mark = "ok    " if rule.fully_used else "UNUSED" if rule.used == 0 else "PARTLY"
            replies = "; ".join(r.describe() for r in rule.replies) or "the generator's answer"
            lines.append(f"  {mark} #{i} {rule.describe()} -> {replies}: answered {rule.used} of {rule.expected}")
        if total:
            lines.append(f"requests no rule answered ({total}):")
            lines.extend(f"  - {text}" for text in unmatched)
            if total > len(unmatched):
                lines.append(f"  ... and {total - len(unmatched)} more")
        else:
            lines.append("no request went unanswered by the rules")
        raise AssertionError("\n".join(lines))
