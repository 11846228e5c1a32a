"""Shared test setup: headless rendering and the registered env ids."""

import os

os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")

import exgen  # noqa: F401  (registers LunarLanding-v0)
