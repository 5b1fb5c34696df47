"""Interception: clients built anywhere in the process talk to a simulator.

While an :class:`Interceptor` is active, ``HTTPTransport.handle_request`` and
``AsyncHTTPTransport.handle_async_request`` of every installed stack (httpx,
httpx2) are replaced at class level, so clients created before or after, with
default settings, sync or async, are covered::

    client.send ─► HTTPTransport.handle_request (patched)
                     ├─ URL under an intercepted base URL ─► the innermost matching
                     │      interceptor's simulator, through its own transport
                     │      (adapters/transports.py), recorded as "intercept:<stack>"
                     ├─ block_network ──────────────────► NetworkBlockedError (a ConnectError)
                     └─ anything else ──────────────────► the original method

The first interceptor to enter installs the patch; the last to exit puts the
original methods back. The patch is process-wide because the classes are: the
registry of active interceptors is the one piece of shared state, guarded by a lock.

Why not respx for httpx: it was tried. Streaming does survive it (respx's
httpcore mocker hands the transport's byte stream on unread), but its routers are
consulted in registration order and a pass-through route answers for good, so a
``respx.mock`` the test opens *inside* the interceptor never sees its own routes
(its requests went to the network); a route's side effect cannot tell a sync
request from an async one; respx records every call unboundedly; and respx is
not a dependency of the ``httpx`` extra, so a class patch was needed anyway.
Patching ``HTTPTransport`` sits *above* respx's httpcore patch instead, so a
test's own respx mocks keep working in either nesting order.
"""

from __future__ import annotations

import dataclasses
import functools
import importlib
import importlib.util
import json
import os
import re
import sys
import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast
from urllib.parse import urlsplit

from .transports import STACKS, make_transport

if TYPE_CHECKING:
    from types import TracebackType

    from ..api.types import ApiRequest, ApiResponse
    from ..simulator import FakeAI

__all__ = ["OPENAI_BASE_URL", "BaseUrl", "Interceptor", "NetworkBlockedError", "is_patched"]

OPENAI_BASE_URL = "https://api.openai.com/v1"

_DEFAULT_PORTS = {"http": 80, "https": 443}
_AZURE_HOSTS = (".openai.azure.com", ".cognitiveservices.azure.com", ".services.ai.azure.com")
#: (class name, method name, is async) patched on each stack
_TARGETS = (("HTTPTransport", "handle_request", False), ("AsyncHTTPTransport", "handle_async_request", True))
_MARK = "__fakeai_intercept__"


class NetworkBlockedError(Exception):
    """A request refused because ``block_network`` is on.

    What is raised is a subclass of this *and* of the stack's ``ConnectError``
    (``httpx.ConnectError`` / ``httpx2.ConnectError``), so the openai SDK
    surfaces it as ``APIConnectionError`` (with this as its ``__cause__``).
    """


@functools.cache
def _blocked_error(stack: str) -> Callable[..., NetworkBlockedError]:
    mod = importlib.import_module(stack)
    name = f"{stack.capitalize()}NetworkBlockedError"
    doc = f"A request refused because block_network is on (a {stack}.ConnectError)."
    return type(name, (mod.ConnectError, NetworkBlockedError), {"__module__": __name__, "__doc__": doc})


# -- base URLs: which requests are intercepted, and onto which path -------------------------------


@dataclass(frozen=True, slots=True)
class BaseUrl:
    """One intercepted base URL: ``scheme://host[:port][/prefix]``.

    A request under it maps onto the simulator's ``/v1/<rest below the prefix>``;
    a base URL without a path maps request paths unchanged. An Azure OpenAI URL
    (``*.openai.azure.com``, or a path with ``/openai``) maps
    ``/openai[/deployments/{name}][/v1]/<rest>`` onto ``/v1/<rest>``, with the
    deployment as the model when the body names none.
    """

    text: str
    scheme: str
    host: str
    port: int
    prefix: str  # "" or "/..." without a trailing slash
    azure: bool

    @classmethod
    def parse(cls, text: str) -> BaseUrl:
        parts = urlsplit(text.strip())
        scheme = parts.scheme.lower()
        if scheme not in _DEFAULT_PORTS or not parts.hostname:
            raise ValueError(
                f"cannot intercept {text!r}: a base URL looks like https://host[:port]/path, "
                "e.g. https://myres.openai.azure.com or http://localhost:8000/v1"
            )
        prefix = parts.path.rstrip("/")
        host = parts.hostname.lower()
        azure = host.endswith(_AZURE_HOSTS) or prefix.endswith("/openai") or "/openai/deployments/" in prefix + "/"
        port = parts.port or _DEFAULT_PORTS[scheme]
        return cls(text.strip(), scheme, host, port, prefix, azure)

    def route(self, url: Any) -> tuple[str, str | None] | None:
        """``(simulator path, default model)`` for an httpx(2) URL under this base, else None."""
        if url.scheme != self.scheme or url.host != self.host:
            return None
        if (url.port or _DEFAULT_PORTS.get(url.scheme)) != self.port:
            return None
        path: str = url.path
        if path != self.prefix and not path.startswith(self.prefix + "/"):
            return None
        if self.azure:
            return _azure_path(path)
        if not self.prefix:
            return path, None
        return "/v1" + path[len(self.prefix) :], None


_AZURE_PATH = re.compile(r"/openai(/.*)?$")


def _azure_path(path: str) -> tuple[str, str | None]:
    found = _AZURE_PATH.search(path)  # after any gateway prefix (API Management): .../openai/...
    if found is None:
        return path, None  # not an Azure OpenAI path: the simulator answers it as it is (a 404)
    rest, model = found.group(1) or "", None
    if rest.startswith("/deployments/"):
        model, _, rest = rest.removeprefix("/deployments/").partition("/")
        rest = "/" + rest
    if rest == "/v1" or rest.startswith("/v1/"):
        rest = rest[3:]
    return "/v1" + rest.rstrip("/"), model or None


def _with_default_model(body: bytes, model: str) -> bytes:
    if not body.lstrip().startswith(b"{"):
        return body
    try:
        data = json.loads(body)
    except ValueError:
        return body
    if not isinstance(data, dict) or "model" in data:
        return body
    return json.dumps({"model": model, **data}).encode()


class _Via:
    """The simulator as a transport sees it for one intercepted request.

    The transports of adapters/transports.py call ``handle``, ``pace`` and
    ``wait_seconds``; here ``handle`` labels the call ``intercept:<stack>`` and
    puts in the mapped path (and Azure's default model).
    """

    __slots__ = ("_label", "_model", "_path", "_sim")

    def __init__(self, sim: FakeAI, label: str, path: str, model: str | None) -> None:
        self._sim, self._label, self._path, self._model = sim, label, path, model

    def handle(self, request: ApiRequest, *, transport: str = "", defer_clock: bool = False) -> ApiResponse:
        body = request.body if self._model is None else _with_default_model(request.body, self._model)
        return self._sim.handle(
            dataclasses.replace(request, path=self._path, body=body), transport=self._label, defer_clock=defer_clock
        )

    def pace(self, response: ApiResponse) -> Iterator[tuple[float, bytes]]:
        return self._sim.pace(response)

    def wait_seconds(self, response: ApiResponse) -> float:
        return self._sim.wait_seconds(response)

    def __getattr__(self, name: str) -> Any:  # whatever else a transport may come to read
        return getattr(self._sim, name)


# -- the interceptor --------------------------------------------------------------------------------


class Interceptor:
    """Context manager (``with`` or ``async with``): route OpenAI-bound requests to ``simulator``.

    Intercepts ``https://api.openai.com/v1``, ``$OPENAI_BASE_URL`` when set, the
    simulator's ``base_url`` setting and ``base_urls``. Re-entrant and nestable:
    the innermost active interceptor whose base URLs match answers.
    """

    def __init__(self, simulator: FakeAI, base_urls: Iterable[str] = (), *, block_network: bool = False) -> None:
        self.simulator = simulator
        self.block_network = block_network
        texts = [OPENAI_BASE_URL, os.environ.get("OPENAI_BASE_URL", ""), simulator.settings.base_url, *base_urls]
        parsed: dict[tuple[str, str, int, str], BaseUrl] = {}
        for text in texts:
            if text.strip():
                url = BaseUrl.parse(text)
                parsed.setdefault((url.scheme, url.host, url.port, url.prefix), url)
        self.base_urls: tuple[BaseUrl, ...] = tuple(parsed.values())

    @property
    def active(self) -> bool:
        return self in _REGISTRY.active

    def route(self, url: Any) -> tuple[str, str | None] | None:
        """``(simulator path, default model)`` if this interceptor answers ``url``."""
        for base in self.base_urls:
            found = base.route(url)
            if found is not None:
                return found
        return None

    def __enter__(self) -> Interceptor:
        _REGISTRY.push(self)
        return self

    def __exit__(self, *exc: object) -> None:
        _REGISTRY.remove(self)

    async def __aenter__(self) -> Interceptor:
        return self.__enter__()

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.__exit__(exc_type, exc, tb)

    def __repr__(self) -> str:
        urls = ", ".join(b.text for b in self.base_urls)
        state = "active" if self.active else "inactive"
        return f"<Interceptor {state} [{urls}] block_network={self.block_network} {self.simulator!r}>"


# -- the class patch --------------------------------------------------------------------------------


class _Registry:
    """The active interceptors (innermost last) and the class patch they need.

    ``active`` is replaced, never mutated, so the patched methods read it without the lock.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.active: tuple[Interceptor, ...] = ()

    def push(self, interceptor: Interceptor) -> None:
        with self._lock:
            if not self.active:
                _install()
            self.active = (*self.active, interceptor)

    def remove(self, interceptor: Interceptor) -> None:
        with self._lock:
            entries = list(self.active)
            for i in range(len(entries) - 1, -1, -1):
                if entries[i] is interceptor:
                    del entries[i]
                    break
            self.active = tuple(entries)
            if not entries:
                _uninstall()

    def target(self, stack: str, request: Any) -> _Via | None:
        """Who answers ``request``: a simulator (via its transport), the network (None), or nobody (raises)."""
        active = self.active
        url = request.url
        for interceptor in reversed(active):
            found = interceptor.route(url)
            if found is not None:
                return _Via(interceptor.simulator, f"intercept:{stack}", *found)
        if any(i.block_network for i in active):
            raise _blocked_error(stack)(_blocked_message(request, active), request=request)
        return None


_REGISTRY = _Registry()


def _blocked_message(request: Any, active: tuple[Interceptor, ...]) -> str:
    url = request.url
    origin = f"{url.scheme}://{url.host}" + (f":{url.port}" if url.port else "")
    path: str = url.path
    base = origin + (path[: path.index("/v1") + 3] if "/v1" in path else "")
    intercepted = ", ".join(dict.fromkeys(b.text for i in active for b in i.base_urls))
    return (
        f"pytest-fakeai blocked {request.method} {origin}{path}: block_network is on, so while "
        f"fakeai.intercept() is active only its base URLs ({intercepted}) are reachable, answered by the "
        f'simulator. To have the simulator answer this URL too, intercept it: fakeai.intercept("{base}") or '
        "the intercept_urls setting. To let it reach the network, turn block_network off "
        "(@pytest.mark.fakeai(block_network=False), or fakeai.intercept(block_network=False))."
    )


def _installed_stacks() -> list[str]:
    return [s for s in STACKS if s in sys.modules or importlib.util.find_spec(s) is not None]


def _patch_targets() -> Iterator[tuple[str, type, str, bool]]:
    for stack in _installed_stacks():
        mod = importlib.import_module(stack)
        for cls_name, method, is_async in _TARGETS:
            yield stack, getattr(mod, cls_name), method, is_async


def _install() -> None:
    for stack, cls, name, is_async in _patch_targets():
        current = cls.__dict__.get(name)
        if getattr(current, _MARK, None) is not None:
            continue  # still ours, left under someone else's patch last time: it is inert when idle
        original = current if current is not None else getattr(cls, name)
        wrapper = _async_wrapper(stack, original) if is_async else _sync_wrapper(stack, original)
        setattr(wrapper, _MARK, "own" if current is not None else "inherited")
        setattr(cls, name, wrapper)


def _uninstall() -> None:
    for _stack, cls, name, _is_async in _patch_targets():
        current = cls.__dict__.get(name)
        mark = getattr(current, _MARK, None)
        if mark == "own":
            setattr(cls, name, current.__wrapped__)  # type: ignore[union-attr]
        elif mark == "inherited":
            delattr(cls, name)
        # Otherwise someone patched over us (mock.patch, pytest-httpx) and will put our
        # wrapper back when they finish; with no interceptor active it only calls the original.


def is_patched() -> bool:
    """Whether any stack's transport classes are currently patched by an interceptor."""
    return any(getattr(cls.__dict__.get(name), _MARK, None) is not None for _, cls, name, _ in _patch_targets())


def _sync_wrapper(stack: str, original: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(original)
    def handle_request(self: Any, request: Any) -> Any:
        via = _REGISTRY.target(stack, request)
        if via is None:
            return original(self, request)
        return make_transport(cast("FakeAI", via), stack).handle_request(request)

    return handle_request


def _async_wrapper(stack: str, original: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(original)
    async def handle_async_request(self: Any, request: Any) -> Any:
        via = _REGISTRY.target(stack, request)
        if via is None:
            return await original(self, request)
        return await make_transport(cast("FakeAI", via), stack, asynchronous=True).handle_async_request(request)

    return handle_async_request
