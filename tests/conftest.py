"""Shared by every test folder: keep it small."""

from __future__ import annotations

pytest_plugins = ["pytester"]
