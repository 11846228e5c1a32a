"""Command-line input: parsing contexts, and turning bad input into one-line errors."""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import gymnasium as gym

from exgen.envs.mixture import make_env


class InputError(Exception):
    """Bad command-line input: reported as one line with exit code 2."""


@contextmanager
def input_errors() -> Iterator[None]:
    """Re-raise the errors of validating user input as :class:`InputError`."""
    try:
        yield
    except InputError:
        raise
    except (ValueError, TypeError, KeyError, FileNotFoundError, FileExistsError,
            gym.error.Error) as error:
        message = error.args[0] if isinstance(error, KeyError) and error.args else error
        raise InputError(str(message)) from error


def parse_value(text: str) -> Any:
    """``8:12`` is a range, ``true``/``false`` a bool, ``none`` None, ``{...}``/``[...]``
    JSON (``policy_kwargs={"net_arch": [128, 128]}``), else int or float."""
    lowered = text.strip().lower()
    if lowered[:1] in ("{", "["):
        try:
            return json.loads(text)
        except json.JSONDecodeError as error:
            raise InputError(f"{text!r} is not valid JSON: {error}") from None
    if lowered in ("true", "false"):
        return lowered == "true"
    if lowered == "none":
        return None
    if ":" in text:
        low, _, high = text.partition(":")
        return (parse_value(low), parse_value(high))
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return text


def parse_context(pairs: Sequence[str]) -> dict[str, Any]:
    """``["gravity=3.71", "wind_speed=0:5"]`` -> ``{"gravity": 3.71, "wind_speed": (0, 5)}``."""
    context: dict[str, Any] = {}
    for pair in pairs:
        key, separator, value = pair.partition("=")
        if not separator or not key:
            raise InputError(f"context must be KEY=VALUE (a range as KEY=LOW:HIGH), got {pair!r}")
        context[key.strip()] = parse_value(value)
    return context


def env_kwargs(context: Sequence[str], presets: Sequence[str], observe_context: bool = False,
               observe_fuel: bool = False) -> dict[str, Any]:
    """Env keyword arguments from the shared ``--context``/``--preset``/observe options."""
    kwargs = parse_context(context)
    if presets:
        kwargs["preset"] = list(presets)
    if observe_context:
        kwargs["observe_context"] = True
    if observe_fuel:
        kwargs["observe_fuel"] = True
    return kwargs


def check_env_kwargs(env_id: str, kwargs: dict[str, Any]) -> gym.Space:
    """Build the env once so an unknown id or context key fails before any work; its
    action space."""
    with input_errors():
        env = make_env(env_id, **kwargs)  # a mixture when kwargs hold contexts
        env.close()
        return env.action_space


def add_env_arguments(parser: Any) -> None:
    parser.add_argument("--env", default="LunarLanding-v0", help="registered env id")
    parser.add_argument("--context", nargs="*", default=[], metavar="KEY=VALUE",
                        help="context fields, e.g. gravity=3.71 wind_speed=0:5 (a range)")
    parser.add_argument("--preset", nargs="*", default=[], help="named presets, e.g. mars")
    parser.add_argument("--observe-context", action="store_true",
                        help="append the context to the observation (context-aware agents)")
    parser.add_argument("--observe-fuel", action="store_true", help="append the fuel left")
