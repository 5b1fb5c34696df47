from __future__ import annotations

import subprocess
import sys

import tiktoken

from pytest_fakeai.engine.tokenizer import ApproximateEncoding, Tokenizer, image_tokens


def test_counts_match_tiktoken() -> None:
    for name in ("o200k_base", "cl100k_base"):
        tok = Tokenizer(name)
        enc = tiktoken.get_encoding(name)
        for text in ("", "hello world", "Ünïcödé ☕ and emoji 👍🏽", "x" * 1000):
            assert tok.count(text) == len(enc.encode(text))
        assert tok.exact


def test_tools_count_follows_cookbook_constants() -> None:
    tok = Tokenizer("o200k_base")
    enc = tiktoken.get_encoding("o200k_base")
    tools = [
        {
            "type": "function",
            "function": {
                "name": "get_weather",
                "description": "Weather now.",
                "parameters": {
                    "type": "object",
                    "properties": {
                        "city": {"type": "string", "description": "City"},
                        "unit": {"type": "string", "enum": ["c", "f"]},
                    },
                },
            },
        }
    ]
    expected = 7 + len(enc.encode("get_weather:Weather now")) + 3
    expected += 3 + len(enc.encode("city:string:City"))
    expected += 3 + (-3 + 3 + 1 + 3 + 1) + len(enc.encode("unit:string:"))
    expected += 12
    assert tok.count_tools(tools) == expected


def test_image_tokens_documented_examples() -> None:
    # OpenAI's vision guide: 1024x1024 high → 765; 2048x4096 high → 1105; low → 85
    assert image_tokens("https://x/y.png", "low") == 85
    assert image_tokens("https://x/unknown.png", "high") == 765  # unknown size taken as 1024²


def test_offline_fallback_warns_once_and_approximates(tmp_path: object) -> None:
    code = (
        "import warnings, os\n"
        "warnings.simplefilter('always')\n"
        "from pytest_fakeai.engine import tokenizer as t\n"
        "import tiktoken.load\n"
        "def fail(*a, **k): raise OSError('offline')\n"
        "tiktoken.load.read_file_cached = fail\n"
        "tok = t.Tokenizer('o200k_base')\n"
        "with warnings.catch_warnings(record=True) as w:\n"
        "    warnings.simplefilter('always')\n"
        "    n = tok.count('hello there, world!')\n"
        "    tok2 = t.Tokenizer('o200k_base'); tok2.count('again')\n"
        "print(n, len([x for x in w if issubclass(x.category, t.TokenizerFallbackWarning)]), tok.exact)\n"
    )
    env_cache = {"TIKTOKEN_CACHE_DIR": str(tmp_path)}
    import os

    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, env={**os.environ, **env_cache}
    )
    count, warnings_seen, exact = out.stdout.split()
    assert int(count) == 5  # hello / there / , / world / !
    assert warnings_seen == "1"
    assert exact == "False"


def test_approximate_encoding_round_trips_pieces() -> None:
    enc = ApproximateEncoding("o200k_base")
    tokens = enc.encode_ordinary("Hi, you!")
    assert b"".join(enc.decode_single_token_bytes(t) for t in tokens) == b"Hi, you!"
