"""What each agent of an experiment sees and how it acts, for the report.

Every agent meets its env through the public view (:mod:`exgen.agents.public_view`):
observations, rewards, episode ends and the ``info`` keys of the world's ``AGENT_INFO``.
:func:`describe_agents` builds the env each agent of a spec learns in (its first
training context with its ``interface`` and ``observe_context``, as the runner does),
takes the spaces the view shows, and names their entries with the layout of the world's
public module (``exgen.envs.<world>.public``), so that the report says what the agent
really gets: no description is typed per agent.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from types import ModuleType
from typing import Any

import gymnasium as gym

from exgen.experiments.spec import AgentSpec, ExperimentSpec

#: The ``info`` key every world gives every agent; the others are published at a reset.
SUCCESS_KEY = "is_success"


@dataclass(frozen=True)
class AgentInterface:
    """One agent's interface to its env, in words."""

    agent: str  #: the spec's name of the agent
    kind: str  #: its agent name (``ppo``, ``planner``, ``module:Class``)
    #: entries of its observation vector (of the ``vector`` part for a dict observation)
    observation_size: int
    observes: str  #: the observation, entry groups in order
    #: the context fields appended to its observation; empty when the context is hidden
    context_observed: tuple[str, ...]
    #: the ``info`` keys published at a reset that it reads (the city's ``map``)
    reads_at_reset: tuple[str, ...]
    action_space: str  #: the space it acts in, as Gymnasium prints it
    acts: str  #: what its actions do
    learns: str  #: what it learns from, and its budget


def describe_agents(spec: ExperimentSpec) -> list[AgentInterface]:
    """The interface of every agent of ``spec``, in the spec's order."""
    return [describe_agent(spec, agent) for agent in spec.agents]


def describe_agent(spec: ExperimentSpec, agent: AgentSpec) -> AgentInterface:
    """The interface of ``agent``: the env it learns in (first training context), seen
    through the public view, described with its world's public layout."""
    from exgen.agents.public_view import PublicView
    from exgen.envs.mixture import make_env
    from exgen.experiments.scheduler import agent_env_kwargs

    kwargs = agent_env_kwargs(agent, dict(agent.train[0]))
    env = PublicView(make_env(spec.env, **kwargs))
    try:
        observation_space, action_space = env.observation_space, env.action_space
    finally:
        env.close()
    public = world_public(spec.env)
    describe = _WORLDS.get(spec.env, _Generic)(public, kwargs)
    size, observes = describe.observation(observation_space)
    acts = describe.actions(action_space)
    table = _sb3_table(agent, spec.env)
    frames = int(table.get("frame_stack", 1)) if table is not None else 1
    if frames > 1:
        observes += f"; its policy sees the last {frames} observations stacked"
    if table is not None and table.get("action_grid") is not None:
        acts += _grid_phrase(table)
    published = published_at_reset(spec.env)
    reads = published if callable(getattr(_agent_class(agent.agent, spec.env),
                                          "start_episode", None)) else ()
    fields = tuple(getattr(public, "CONTEXT_OBSERVATION_FIELDS", ())) if kwargs.get(
        "observe_context") else ()
    return AgentInterface(
        agent=agent.name, kind=agent.agent, observation_size=size, observes=observes,
        context_observed=fields, reads_at_reset=reads, action_space=_space_name(action_space),
        acts=acts, learns=_learns(spec, agent, table))


def world_public(env_id: str) -> ModuleType | None:
    """The public module of ``env_id``'s world (``exgen.envs.city.public``): the package
    of its entry point's ``public``; None for an env whose package has none."""
    entry_point = gym.registry[env_id].entry_point
    if not isinstance(entry_point, str):
        return None
    package = entry_point.split(":")[0].rpartition(".")[0]
    try:
        return importlib.import_module(f"{package}.public")
    except ModuleNotFoundError:
        return None


def published_at_reset(env_id: str) -> tuple[str, ...]:
    """The ``info`` keys besides success that ``env_id``'s world lets an agent read (its
    ``AGENT_INFO``): what it publishes at a reset, the city's ``map``."""
    public = world_public(env_id)
    return tuple(k for k in getattr(public, "AGENT_INFO", ()) if k != SUCCESS_KEY)


# ------------------------------------------------------------------ observation, actions
class _Generic:
    """Any env: its spaces as Gymnasium prints them."""

    def __init__(self, public: ModuleType | None, kwargs: Mapping[str, Any]) -> None:
        self.public = public
        self.kwargs = kwargs

    def observation(self, space: gym.Space) -> tuple[int, str]:
        """``(entries, words)`` of an observation in ``space``."""
        shape = getattr(space, "shape", None)
        if not shape:  # a dict or tuple observation: its parts as Gymnasium prints them
            return 0, _space_name(space)
        size = _product(shape)
        return size, f"{size} entries ({_space_name(space)})"

    def actions(self, space: gym.Space) -> str:
        """What an action in ``space`` does."""
        return _space_name(space)


class _City(_Generic):
    """``CityDriving-v0``: the layout of :mod:`exgen.envs.city.public`."""

    def observation(self, space: gym.Space) -> tuple[int, str]:
        public = self.public
        raster = space["raster"] if isinstance(space, gym.spaces.Dict) else None
        vector = space["vector"] if raster is not None else space
        context, route, users, lead = (bool(self.kwargs.get(k)) for k in (
            "observe_context", "observe_route", "observe_road_users", "observe_lead"))
        size = int(vector.shape[0])
        rays = self.kwargs.get("lidar_rays", public.DEFAULT_LIDAR_RAYS)
        if public.observation_size(rays, context, route, users, lead) != size:
            raise ValueError(f"CityDriving-v0's observation has {size} entries, which "
                             f"public.layout does not fit")
        layout = public.layout(rays, context, route, users, lead)
        names = sorted(layout, key=layout.__getitem__)
        before = [n for n in names if layout[n] < public.LIDAR_START]
        after = [n for n in names if layout[n] >= public.LIDAR_START]
        appended = set(public.CONTEXT_OBSERVATION_FIELDS + public.ROUTE_OBSERVATION
                       + public.road_user_names(rays) + public.LEAD_OBSERVATION)
        base = [n for n in after if n not in appended]
        lidar_m = self.kwargs.get("lidar_range_m", public.DEFAULT_LIDAR_RANGE_M)
        parts = [*_grouped(before), f"lidar ({rays} rays, {lidar_m:g} m)", *_grouped(base)]
        if context:
            parts.append(f"+ context ({', '.join(public.CONTEXT_OBSERVATION_FIELDS)})")
        if route:
            parts.append(f"+ route ahead ({', '.join(public.ROUTE_OBSERVATION)})")
        if users:
            parts.append(f"+ road users ({rays} rays: distance, rate)")
        if lead:
            parts.append("+ car ahead (distance, rate)")
        words = f"{size} floats: {', '.join(parts)}"
        if raster is not None:
            _, height, width = raster.shape
            words += (f"; + raster {height} x {width} cells of {public.RASTER_M_PER_PX:g} m "
                      f"around the car ({', '.join(public.RASTER_CHANNELS)})")
        return size, words

    def actions(self, space: gym.Space) -> str:
        public = self.public
        if isinstance(space, gym.spaces.Discrete):
            steers, pedals = _factors(public.ACTION_MEANINGS.values())
            return (f"{_space_name(space)}: {steers[0].split()[0]} "
                    f"{{{', '.join(s.split(maxsplit=1)[1] for s in steers)}}} x pedal "
                    f"{{{', '.join(pedals)}}}")
        steer, pedal = public.CONTINUOUS_ACTION
        return (f"{_space_name(space)}: {steer} (> 0 turns left), {pedal} (> 0 throttle, "
                f"< 0 brake)")


class _Lunar(_Generic):
    """``LunarLanding-v0``: the layout of :mod:`exgen.envs.lunar.public`."""

    def observation(self, space: gym.Space) -> tuple[int, str]:
        public = self.public
        names = {public.X: "x", public.Y: "y (from the pad)", public.VX: "vx", public.VY: "vy",
                 public.ANGLE: "tilt", public.OMEGA: "angular velocity",
                 public.LEFT_CONTACT: "left leg contact",
                 public.RIGHT_CONTACT: "right leg contact"}
        parts = [names[i] for i in sorted(names)]
        size = len(parts)
        if self.kwargs.get("observe_fuel"):
            parts.append("+ fuel left")
            size += 1
        if self.kwargs.get("observe_context"):
            parts.append(f"+ context ({', '.join(public.CONTEXT_OBSERVATION_FIELDS)})")
            size += len(public.CONTEXT_OBSERVATION_FIELDS)
        if space.shape != (size,):
            raise ValueError(f"LunarLanding-v0's observation has shape {space.shape}, "
                             f"public.py's layout {size} entries")
        return size, f"{size} floats: {', '.join(parts)}"

    def actions(self, space: gym.Space) -> str:
        if isinstance(space, gym.spaces.Discrete):
            meanings = [self.public.ACTION_MEANINGS[i].split(":")[0] for i in range(space.n)]
            return f"{_space_name(space)}: {'; '.join(meanings)}"
        return (f"{_space_name(space)}: main engine (off at ≤ 0, 50-100% above), side "
                f"engines (off within ±0.5, left below, right above)")


#: The describer of each world's observation and actions, by env id; others: generic.
_WORLDS: dict[str, Callable[[ModuleType | None, Mapping[str, Any]], _Generic]] = {
    "CityDriving-v0": _City, "LunarLanding-v0": _Lunar}


def _grouped(names: Sequence[str]) -> list[str]:
    """Entry names in words, consecutive ones sharing their first word as one group:
    ``lane_heading, lane_offset`` -> ``lane (heading, offset)``."""
    groups: list[tuple[str, list[str]]] = []
    for name in names:
        head, _, rest = name.partition("_")
        if rest and groups and groups[-1][0] == head and groups[-1][1]:
            groups[-1][1].append(rest)
        else:
            groups.append((head, [rest]) if rest else (name, []))
    return [f"{head} ({', '.join(rest).replace('_', ' ')})" if len(rest) > 1
            else f"{head} {rest[0]}".replace("_", " ") if rest else head.replace("_", " ")
            for head, rest in groups]


def _factors(meanings: Any) -> tuple[list[str], list[str]]:
    """The distinct first and second halves of ``"steer right, brake"`` meanings, in
    order: the two factors of a product of discrete actions."""
    firsts: list[str] = []
    seconds: list[str] = []
    for meaning in meanings:
        first, _, second = meaning.partition(", ")
        for values, value in ((firsts, first), (seconds, second)):
            if value not in values:
                values.append(value)
    return firsts, seconds


def _space_name(space: gym.Space) -> str:
    """``Discrete(9)``, ``Box(2) in [-1, 1]``, or the space as Gymnasium prints it."""
    if isinstance(space, gym.spaces.Box) and len(space.shape) == 1:
        low, high = float(space.low.min()), float(space.high.max())
        if (space.low == low).all() and (space.high == high).all():
            return f"Box({space.shape[0]}) in [{low:g}, {high:g}]"
    if isinstance(space, gym.spaces.Box):
        return f"Box{space.shape}"
    return str(space)


def _product(shape: Sequence[int]) -> int:
    result = 1
    for n in shape:
        result *= int(n)
    return result


# ------------------------------------------------------------------ agent kinds, learning
def _sb3_table(agent: AgentSpec, env_id: str) -> dict[str, Any] | None:
    """The hyperparameter table an SB3 agent trains with (the tuned one and the spec's
    overrides); None for another agent."""
    from exgen.agents.sb3 import ALGORITHMS, load_hyperparameters

    if agent.agent not in ALGORITHMS:
        return None
    return {**load_hyperparameters(agent.agent, env_id), **agent.hyperparameters}


def _agent_class(kind: str, env_id: str) -> Any:
    """The class (or factory) behind agent name ``kind`` for ``env_id``."""
    from exgen.agents.registry import resolve
    from exgen.agents.sb3 import ALGORITHMS, SB3Agent

    if kind in ALGORITHMS:
        return SB3Agent
    if kind == "planner":
        from exgen.physics_baseline import PLANNERS

        return PLANNERS.get(env_id)
    return resolve(kind)


def _grid_phrase(table: dict[str, Any]) -> str:
    """How an SB3 policy acts through the table's ``action_grid``."""
    grid = table["action_grid"]
    count = _product([len(values) for values in grid])
    if table.get("factored_actions"):
        return (f"; its policy picks each dimension's value on a grid "
                f"(MultiDiscrete({[len(v) for v in grid]}))")
    return f"; its policy picks one of {count} grid actions (Discrete({count}))"


def _learns(spec: ExperimentSpec, agent: AgentSpec, table: dict[str, Any] | None) -> str:
    """What ``agent`` learns from, and its learning budget, in a short phrase."""
    from exgen.agents.reward_shaping import SHAPING_KEYS

    steps, episodes = spec.budget_of(agent)
    budget = (f"{steps:,} env steps" if steps is not None
              else f"{episodes:,} episodes" if episodes is not None else "no budget set")
    if table is not None:
        if table.get("route_reward"):
            source = "a route-completion reward (learner only)"
        elif any(key in table for key in SHAPING_KEYS):
            source = "the env's reward plus learner-only shaping"
        else:
            source = "the env's reward"
    elif agent.agent == "planner":
        source = "no reward: it measures the world's unknowns as it acts"
    elif agent.agent == "random":
        source = "nothing (uniform random actions)"
    else:
        source = "its own episodes"
    return f"{source}; {budget}"


__all__ = ["AgentInterface", "describe_agent", "describe_agents", "published_at_reset",
           "world_public"]
