"""API keys: OpenAI's 401s on every route when ``api_keys`` is set."""

from __future__ import annotations

import openai
import pytest

from pytest_fakeai import FakeAI
from pytest_fakeai.api.auth import masked_key
from tests._support.drive import AVAILABLE_STACKS, Driver
from tests._support.drive import http as httpx
from tests._support.spec import check_error

MISSING = (
    "You didn't provide an API key. You need to provide your API key in an Authorization header using Bearer "
    "auth (i.e. Authorization: Bearer YOUR_KEY), or as the password field (with blank username) if you're "
    "accessing the API from your browser and are prompted for a username and password. You can obtain an API "
    "key from https://platform.openai.com/account/api-keys."
)


def test_wrong_key_is_invalid_api_key(stack: str, mode: str) -> None:
    sim = FakeAI(api_keys=["sk-good-0123456789"])
    api = Driver(sim, stack, mode)
    api.client = api.client.with_options(api_key="sk-bad-9876543210", max_retries=0)
    with pytest.raises(openai.AuthenticationError) as info:
        api.chat(messages=[{"role": "user", "content": "hi"}])
    check_error(info.value.response.json())
    assert info.value.body == {
        "message": "Incorrect API key provided: sk-**********3210. You can find your API key at "
        "https://platform.openai.com/account/api-keys.",
        "type": "invalid_request_error",
        "param": None,
        "code": "invalid_api_key",
    }


def test_the_ready_clients_send_the_first_accepted_key(stack: str, mode: str) -> None:
    api = Driver(FakeAI(api_keys=["sk-one", "sk-two"]), stack, mode)
    assert api.chat(messages=[{"role": "user", "content": "hi"}]).choices
    assert api.sim.calls.last.request.headers["authorization"] == "Bearer sk-one"


def test_every_route_checks_the_key() -> None:
    sim = FakeAI(api_keys=["sk-one"])
    http = sim.http_client()
    for method, path in [
        ("GET", "/models"),
        ("GET", "/models/gpt-4o"),
        ("POST", "/chat/completions"),
        ("POST", "/completions"),
        ("GET", "/no/such/route"),
        ("GET", "https://api.openai.com/health"),
        ("GET", "https://api.openai.com/metrics"),
    ]:
        response = http.request(method, path)
        assert response.status_code == 401, (method, path)
        check_error(response.json())
        assert response.json()["error"]["message"] == MISSING
        assert response.json()["error"]["code"] is None


def test_open_monitoring_lets_monitoring_routes_through() -> None:
    sim = FakeAI(api_keys=["sk-one"], open_monitoring=True)
    http = sim.http_client()
    # the monitoring routes live at the root, beside /v1
    assert http.get("https://api.openai.com/metrics").status_code != 401
    assert http.get("/models").status_code == 401


def test_azure_api_key_header_and_org_headers_are_accepted() -> None:
    sim = FakeAI(api_keys=["azure-key"])
    http = sim.http_client()
    assert http.get("/models", headers={"api-key": "azure-key"}).status_code == 200
    ok = http.get(
        "/models",
        headers={"authorization": "Bearer azure-key", "openai-organization": "org-x", "openai-project": "proj_y"},
    )
    assert ok.status_code == 200


def test_masking_matches_openais_shape() -> None:
    assert masked_key("sk-proj-abcdefghijklmnop") == "sk-*****************mnop"
    assert masked_key("short") == "*****"


def test_keys_without_api_keys_are_not_checked() -> None:
    sim = FakeAI()
    assert (
        httpx.Client(transport=sim.transport(AVAILABLE_STACKS[0]), base_url=sim.settings.base_url)
        .get("/models")
        .status_code
        == 200
    )
