"""Fuzz campaigns: every route in process (hypothesis) and the real port against the OpenAPI spec (schemathesis)."""
