"""What the generic layers (specs, reports) need to know about a world, declared by the
world itself and looked up by env id.

Each world package (``exgen.envs.lunar``, ``exgen.envs.city``) exports ``WORLD_INFO``, a
:class:`WorldInfo` built in its ``knowledge`` module. :func:`world_info` finds it
through the package of the env id's entry point, so no generic code names a world.
"""

from __future__ import annotations

import dataclasses
import importlib
from dataclasses import dataclass
from functools import cache

from exgen.envs.fields import ContextConfig


@dataclass(frozen=True)
class SweepFigure:
    """A numeric context field the report plots first-trial success against (one line
    per agent, dashed where ``split_field`` is nonzero), and a heatmap over it and
    ``split_field``."""

    field: str  #: the x axis, e.g. ``gravity``
    label: str  #: its axis label, with its unit
    split_field: str  #: the second field: the heatmap's rows, the dashed lines
    split_label: str  #: its axis label, with its unit
    split_name: str  #: a short name of the second field, for file names
    split_legend: str  #: the legend's note on a dashed line


@dataclass(frozen=True)
class WorldInfo:
    """One world's declarations for the experiment layers."""

    env_id: str
    #: the context's class: its fields without ``bounds`` are labels, not numbers
    config_class: type[ContextConfig] | None = None
    #: env arguments an agent spec's ``interface`` may set: its actions and what it
    #: observes; they describe the agent, not the context, so they are no label either
    interface_keys: frozenset[str] = frozenset()
    #: keys of ``info["context"]`` derived from the others or bookkeeping: no label
    derived_context_keys: frozenset[str] = frozenset()
    #: the counts of ``info["infractions"]``, in the order the report stacks them
    infractions: tuple[str, ...] = ()
    #: the report's success-over-a-field figures; None where the world has none
    sweep: SweepFigure | None = None

    @property
    def categorical_fields(self) -> set[str]:
        """The context fields that are labels, not numbers (a map seed, a driving side)."""
        if self.config_class is None:
            return set()
        return {f.name for f in dataclasses.fields(self.config_class)
                if "bounds" not in f.metadata}

    def label_context(self, context: dict[str, object]) -> dict[str, object]:
        """``context`` without the env id, the derived keys and the interface keys: the
        fields that tell contexts apart."""
        hidden = self.derived_context_keys | self.interface_keys | {"env_id"}
        return {k: v for k, v in context.items() if k not in hidden}


@cache
def world_info(env_id: str) -> WorldInfo:
    """The :class:`WorldInfo` of ``env_id``, from the ``WORLD_INFO`` of the package that
    holds its entry point; an empty one for an env whose package declares none."""
    import gymnasium as gym

    import exgen  # noqa: F401  (registers the env ids)

    if env_id not in gym.registry:
        raise KeyError(f"unknown env {env_id!r}")
    entry_point = gym.registry[env_id].entry_point
    if not isinstance(entry_point, str):
        return WorldInfo(env_id)
    package = entry_point.split(":")[0].rpartition(".")[0]
    found = getattr(importlib.import_module(package), "WORLD_INFO", None)
    return found if isinstance(found, WorldInfo) else WorldInfo(env_id)


__all__ = ["SweepFigure", "WorldInfo", "world_info"]
