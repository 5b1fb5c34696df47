"""Test-support helpers: OpenAPI spec and openai SDK validation of simulator output."""

from __future__ import annotations
