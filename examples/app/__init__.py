"""A small application that talks to OpenAI: summariser, tool-using agent, resilient client.

Every component takes an ``openai.OpenAI`` client (dependency injection) and builds
``OpenAI()`` only when none is given, so tests hand it the simulator's client.
"""

from __future__ import annotations
