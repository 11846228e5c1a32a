"""Experiment specs: declarative TOML files naming env, agents, contexts, seeds, budgets.

A spec file holds one experiment with named presets (``quick``, ``full``) that set
the seeds and budgets; see ``experiments/specs/*.toml``. Loading validates every
field and names the one that is wrong.
"""

from __future__ import annotations

import json
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from exgen.agents.seeds import TRAINING_SEEDS

#: Built-in specs, by name.
SPEC_FOLDER = Path(__file__).parent / "specs"
_TOP_KEYS = {"name", "env", "description", "agents", "tests", "presets", "gallery_test"}
_AGENT_KEYS = {"name", "agent", "train", "observe_context", "interface", "hyperparameters",
               "budget_steps", "budget_episodes", "eval_every_steps", "vec_env"}
_TEST_KEYS = {"name", "context", "per_instance"}
_PRESET_KEYS = {"seeds", "budget_steps", "budget_episodes", "trials", "instances",
                "test_instances", "eval_every_steps", "agents", "tests", "relearn", "note",
                "stop_at_criterion", "train_instances", "relearn_budget_steps"}


class SpecError(ValueError):
    """A spec field is missing, unknown or invalid; the message names it."""


@dataclass(frozen=True)
class AgentSpec:
    """One agent of an experiment and where it learns."""

    name: str
    agent: str
    train: tuple[dict[str, Any], ...]
    observe_context: bool = False
    #: env arguments of how this agent meets every context (``continuous = false`` for
    #: discrete actions); not part of a context, so not of the labels either
    interface: dict[str, Any] = field(default_factory=dict)
    hyperparameters: dict[str, Any] = field(default_factory=dict)
    budget_steps: int | None = None
    budget_episodes: int | None = None
    #: Env steps between this agent's evaluations (the criterion's), when its own; None:
    #: after every episode for an episode budget, else the preset's ``eval_every_steps``.
    #: Kept in ``to_dict`` only when set, so the stores of specs without it still match.
    eval_every_steps: int | None = None
    #: How an SB3 agent's training envs run (``RunSpec.vec_env``: ``"dummy"``,
    #: ``"subproc"``, or ``"batched"`` for one context of ``CityDriving-v0``; None: as
    #: ``agents.training.default_vec_env`` picks); not part of the experiment, as every
    #: choice plays the same episodes, so not in ``to_dict``.
    vec_env: str | None = None


@dataclass(frozen=True)
class TestSpec:
    """A context the agents are judged in."""

    name: str
    context: dict[str, Any]
    #: a context field given a fresh held-out value per instance, kept over its trials
    #: (``map_seed``: each instance is an unseen city)
    per_instance: str | None = None


@dataclass(frozen=True)
class ExperimentSpec:
    """A whole experiment at one preset."""

    name: str
    env: str
    preset: str
    agents: tuple[AgentSpec, ...]
    tests: tuple[TestSpec, ...]
    seeds: tuple[int, ...]
    trials: int
    instances: int
    budget_steps: int | None
    budget_episodes: int | None
    eval_every_steps: int
    description: str = ""
    #: Test contexts where the RL agents relearn until the criterion (phase 3).
    relearn: tuple[str, ...] = ()
    #: Instances of the tests that have more than ``instances``, by test name.
    test_instances: dict[str, int] = field(default_factory=dict)
    #: Shown at the top of the report (a quick preset says it is too small for RL).
    note: str = ""
    #: The test context the report's GIFs show (default: the first test).
    gallery_test: str | None = None
    #: Protocol v1's learning: an RL agent stops at the first evaluation that meets the
    #: criterion (one snapshot). False (protocol v2): it trains for its whole budget, and
    #: transfer is measured from the model at the criterion and from the final one.
    stop_at_criterion: bool = False
    #: Fresh held-out episodes per seed in the training context(s) after learning, from
    #: the fully trained model (the generalization gap's training side); default
    #: ``instances``.
    train_instances: int = 20
    #: Env steps a relearn job may take at most (None: the agent's learning budget);
    #: kept in ``to_dict`` only when set, so the stores of specs without it still match.
    relearn_budget_steps: int | None = None

    def budget_of(self, agent: AgentSpec) -> tuple[int | None, int | None]:
        """``(steps, episodes)`` for ``agent``: its own, else the preset's."""
        if agent.budget_steps is not None or agent.budget_episodes is not None:
            return agent.budget_steps, agent.budget_episodes
        return self.budget_steps, self.budget_episodes

    def relearn_budget_of(self, agent: AgentSpec) -> tuple[int | None, int | None]:
        """``(steps, episodes)`` for ``agent``'s relearn jobs: its learning budget, with
        the steps capped at ``relearn_budget_steps`` where the preset sets it."""
        steps, episodes = self.budget_of(agent)
        if self.relearn_budget_steps is None:
            return steps, episodes
        return min(steps or self.relearn_budget_steps, self.relearn_budget_steps), episodes

    def eval_every_of(self, agent: AgentSpec) -> int:
        """Env steps between ``agent``'s evaluations while it learns: its own interval,
        else 1 (after every episode) for an episode budget, else the preset's."""
        if agent.eval_every_steps is not None:
            return agent.eval_every_steps
        return 1 if self.budget_of(agent)[1] is not None else self.eval_every_steps

    def instances_of(self, test: TestSpec) -> int:
        """Instances of ``test``: the preset's count for it, else the preset's default."""
        return self.test_instances.get(test.name, self.instances)

    def to_dict(self) -> dict[str, Any]:
        """The experiment as plain data (what a store keeps): how its envs run left out."""
        from dataclasses import asdict

        data = asdict(self)
        for agent in data["agents"]:
            del agent["vec_env"]
            if agent["eval_every_steps"] is None:
                del agent["eval_every_steps"]
        if data["relearn_budget_steps"] is None:
            del data["relearn_budget_steps"]
        return data


def load_spec(name_or_path: str | Path, preset: str = "quick") -> ExperimentSpec:
    """A built-in spec by name (``gravity-shift``) or a TOML file, at ``preset``."""
    path = Path(name_or_path)
    if not path.suffix:
        path = SPEC_FOLDER / f"{name_or_path}.toml"
        if not path.exists():
            known = sorted(p.stem for p in SPEC_FOLDER.glob("*.toml"))
            raise SpecError(f"unknown spec {str(name_or_path)!r}; built-in: {', '.join(known)}"
                            f", or a path to a .toml file")
    try:
        with path.open("rb") as file:
            data = tomllib.load(file)
    except FileNotFoundError:
        raise SpecError(f"spec file {path} does not exist") from None
    except tomllib.TOMLDecodeError as error:
        raise SpecError(f"{path}: not valid TOML: {error}") from None
    return parse_spec(data, preset, source=str(path))


def parse_spec(data: dict[str, Any], preset: str, source: str = "spec") -> ExperimentSpec:
    """Validate plain data (as read from TOML) into an :class:`ExperimentSpec`."""
    _no_unknown(data, _TOP_KEYS, source)
    name = _required(data, "name", str, source)
    env = _required(data, "env", str, source)
    presets = _required(data, "presets", dict, source)
    if preset not in presets:
        raise SpecError(f"{source}: unknown preset {preset!r}; presets: "
                        f"{', '.join(sorted(presets))}")
    chosen = presets[preset]
    where = f"{source} presets.{preset}"
    _no_unknown(chosen, _PRESET_KEYS, where)
    seeds = tuple(_required(chosen, "seeds", list, where))
    if not seeds or any(isinstance(s, bool) or not isinstance(s, int) for s in seeds):
        raise SpecError(f"{where}.seeds must be a non-empty list of ints, got {seeds!r}")
    bad = [s for s in seeds if s not in TRAINING_SEEDS]
    if bad:
        raise SpecError(f"{where}.seeds must be training seeds in {TRAINING_SEEDS.start}.."
                        f"{TRAINING_SEEDS.stop - 1}, got {bad[0]}")
    agents = [_agent(a, f"{source} agents[{i}]", env)
              for i, a in enumerate(_required(data, "agents", list, source))]
    agents = _chosen(agents, chosen.get("agents"), f"{where}.agents", "agent")
    tests = [_test(t, f"{source} tests[{i}]")
             for i, t in enumerate(_required(data, "tests", list, source))]
    for label, items in (("agents", agents), ("tests", tests)):
        names = [item.name for item in items]
        if len(set(names)) != len(names):
            raise SpecError(f"{source}: {label} names must be unique, got {names}")
        if not names:
            raise SpecError(f"{source}: {label} must not be empty")
    tests = _chosen(tests, chosen.get("tests"), f"{where}.tests", "test")
    test_instances = chosen.get("test_instances", {})
    if not isinstance(test_instances, dict):
        raise SpecError(f"{where}.test_instances must be a table of test name = count")
    for test_name in test_instances:
        if test_name not in {t.name for t in tests}:
            raise SpecError(f"{where}.test_instances names unknown test {test_name!r}")
        _positive(test_instances, test_name, f"{where}.test_instances", None)
    relearn = tuple(chosen.get("relearn", ()))
    unknown_tests = sorted(set(relearn) - {t.name for t in tests})
    if unknown_tests:
        raise SpecError(f"{where}.relearn names unknown test {unknown_tests[0]!r}")
    stop_at_criterion = chosen.get("stop_at_criterion", False)
    if not isinstance(stop_at_criterion, bool):
        raise SpecError(f"{where}.stop_at_criterion must be true or false, got "
                        f"{stop_at_criterion!r}")
    gallery_test = data.get("gallery_test")
    if gallery_test is not None and gallery_test not in {t.name for t in tests}:
        raise SpecError(f"{source}.gallery_test names unknown test {gallery_test!r}")
    instances = _positive(chosen, "instances", where, 20)
    spec = ExperimentSpec(
        gallery_test=gallery_test, stop_at_criterion=stop_at_criterion,
        train_instances=_positive(chosen, "train_instances", where, instances),
        relearn=relearn, test_instances=dict(test_instances), note=str(chosen.get("note", "")),
        relearn_budget_steps=_positive(chosen, "relearn_budget_steps", where, None),
        name=name, env=env, preset=preset, agents=tuple(agents), tests=tuple(tests),
        seeds=seeds, trials=_positive(chosen, "trials", where, 3),
        instances=instances,
        budget_steps=_positive(chosen, "budget_steps", where, None),
        budget_episodes=_positive(chosen, "budget_episodes", where, None),
        eval_every_steps=_positive(chosen, "eval_every_steps", where, 20_000),
        description=str(data.get("description", "")))
    _check_agents(spec, source, _check_contexts(spec, source))
    return spec


def _check_agents(spec: ExperimentSpec, source: str, action_spaces: dict[str, Any]) -> None:
    """Resolve every agent name, and check an SB3 agent's hyperparameters against its
    table and its env's action space (``action_spaces``, per agent name), so that a
    typo fails at load, not in a job."""
    from exgen.agents.registry import AgentNotFound, resolve, unsaved_learning_of
    from exgen.agents.sb3 import ALGORITHMS, check_hyperparameters

    for agent in spec.agents:
        where = f"{source} agents {agent.name!r}"
        try:
            resolve(agent.agent)
        except AgentNotFound as error:
            raise SpecError(f"{where}.agent: {error}") from None
        unsaved = unsaved_learning_of(agent.agent)  # transfer jobs load what it learned
        if unsaved is not None:
            raise SpecError(f"{where}.agent: {unsaved}")
        _check_vec_env(agent, spec.env, where)
        if agent.agent not in ALGORITHMS:
            continue
        try:
            check_hyperparameters(agent.agent, spec.env, agent.hyperparameters,
                                  action_spaces[agent.name])
        except ValueError as error:
            raise SpecError(f"{where}.hyperparameters: {error}") from None


def _check_vec_env(agent: AgentSpec, env: str, where: str) -> None:
    """Raise :class:`SpecError` unless ``agent`` can train with its ``vec_env``."""
    from exgen.agents.batched_vec_env import check_batched
    from exgen.agents.sb3 import ALGORITHMS
    from exgen.agents.training import VEC_ENVS

    if agent.vec_env is None:
        return
    if not isinstance(agent.vec_env, str) or agent.vec_env not in VEC_ENVS:
        raise SpecError(f"{where}.vec_env must be one of {', '.join(VEC_ENVS)}, got "
                        f"{agent.vec_env!r}")
    if agent.vec_env != "batched":
        return
    if agent.agent not in ALGORITHMS:
        raise SpecError(f"{where}.vec_env: 'batched' trains SB3 agents "
                        f"({', '.join(ALGORITHMS)}), not {agent.agent!r}")
    try:
        check_batched(env, {"contexts": agent.train} if len(agent.train) > 1 else {})
    except ValueError as error:
        raise SpecError(f"{where}.vec_env: {error}") from None


def _chosen(items: list[Any], names: list[str] | None, where: str, kind: str) -> list[Any]:
    """The ``items`` a preset names (all when it names none); an unknown name is an error."""
    if names is None:
        return items
    unknown = sorted(set(names) - {item.name for item in items})
    if unknown:
        raise SpecError(f"{where} names unknown {kind} {unknown[0]!r}")
    return [item for item in items if item.name in names]


def _check_contexts(spec: ExperimentSpec, source: str) -> dict[str, Any]:
    """Build the env once per context so that a bad key or value fails at load; return
    each agent's action space (its first training context's), by agent name."""
    import gymnasium as gym

    import exgen  # noqa: F401  (registers the env ids)
    from exgen.envs.mixture import make_env

    if spec.env not in gym.registry:
        raise SpecError(f"{source}.env: unknown env {spec.env!r}; registered: "
                        f"{', '.join(_exgen_env_ids())}")
    # (where, context, the agent whose action space it gives or None)
    contexts = [(f"agents {a.name!r} train", {**c, **a.interface}, a.name if i == 0 else None)
                for a in spec.agents for i, c in enumerate(a.train)]
    interfaces = {json.dumps(a.interface, sort_keys=True): a.interface for a in spec.agents}
    contexts += [(f"tests {t.name!r} context", {**t.context, **interface, **(
        {t.per_instance: 0} if t.per_instance else {})}, None)
        for t in spec.tests for interface in interfaces.values()]
    contexts += [(f"agents {a.name!r} train", {"contexts": [{**c, **a.interface}
                                                           for c in a.train]}, None)
                 for a in spec.agents if len(a.train) > 1]  # one set of spaces
    action_spaces = {}
    for where, context, agent in contexts:
        try:
            env = make_env(spec.env, **context)
        except (TypeError, ValueError, KeyError, FileNotFoundError) as error:
            message = error.args[0] if isinstance(error, KeyError) and error.args else error
            raise SpecError(f"{source} {where}: {message}") from None
        if agent is not None:
            action_spaces[agent] = env.action_space
        env.close()
    return action_spaces


def _exgen_env_ids() -> list[str]:
    """The registered env ids of exgen's worlds: those that declare a context."""
    import gymnasium as gym

    from exgen.envs.world_info import world_info

    return [k for k, v in gym.registry.items()
            if isinstance(v.entry_point, str) and v.entry_point.startswith("exgen.")
            and world_info(k).config_class is not None]


def _agent(data: Any, where: str, env: str) -> AgentSpec:
    """The agent table ``data`` of a spec of ``env``, validated."""
    if not isinstance(data, dict):
        raise SpecError(f"{where} must be a table, got {type(data).__name__}")
    _no_unknown(data, _AGENT_KEYS, where)
    train = _required(data, "train", list, where)
    if not train or not all(isinstance(c, dict) for c in train):
        raise SpecError(f"{where}.train must be a non-empty list of context tables")
    return AgentSpec(
        name=_required(data, "name", str, where), agent=_required(data, "agent", str, where),
        train=tuple(_ranges_as_tuples(c) for c in train),
        observe_context=bool(data.get("observe_context", False)),
        interface=_interface(data.get("interface", {}), where, env),
        hyperparameters=dict(data.get("hyperparameters", {})),
        budget_steps=_positive(data, "budget_steps", where, None),
        budget_episodes=_positive(data, "budget_episodes", where, None),
        eval_every_steps=_positive(data, "eval_every_steps", where, None),
        vec_env=data.get("vec_env"))


def _interface(data: Any, where: str, env: str) -> dict[str, Any]:
    """An agent's ``interface``: env arguments of its actions and what it observes, those
    that ``env``'s world declares (``WorldInfo.interface_keys``), each true or false."""
    if not isinstance(data, dict):
        raise SpecError(f"{where}.interface must be a table, got {type(data).__name__}")
    allowed = _interface_keys(env)
    if allowed is not None:
        _no_unknown(data, set(allowed), f"{where}.interface")
    for key, value in data.items():
        if not isinstance(value, bool):
            raise SpecError(f"{where}.interface.{key} must be true or false, got {value!r}")
    return dict(data)


def _interface_keys(env: str) -> frozenset[str] | None:
    """The interface arguments ``env`` declares; None for an unknown env (the check of
    the env names it)."""
    import exgen  # noqa: F401  (registers the env ids)
    from exgen.envs.world_info import world_info

    try:
        return world_info(env).interface_keys
    except KeyError:
        return None


def _test(data: Any, where: str) -> TestSpec:
    if not isinstance(data, dict):
        raise SpecError(f"{where} must be a table, got {type(data).__name__}")
    _no_unknown(data, _TEST_KEYS, where)
    per_instance = data.get("per_instance")
    if per_instance is not None and not isinstance(per_instance, str):
        raise SpecError(f"{where}.per_instance must be a context field name, "
                        f"got {per_instance!r}")
    context = _ranges_as_tuples(_required(data, "context", dict, where))
    if per_instance in context:
        raise SpecError(f"{where}: context sets {per_instance!r}, which per_instance draws "
                        f"afresh for every instance; drop one of them")
    return TestSpec(_required(data, "name", str, where), context, per_instance=per_instance)


def _ranges_as_tuples(context: dict[str, Any]) -> dict[str, Any]:
    return {k: tuple(v) if isinstance(v, list) and k != "preset" else v
            for k, v in context.items()}


def _required(data: dict[str, Any], key: str, kind: type, where: str) -> Any:
    if key not in data:
        raise SpecError(f"{where}: missing field {key!r}")
    value = data[key]
    if not isinstance(value, kind):
        raise SpecError(f"{where}.{key} must be a {kind.__name__}, got {type(value).__name__}")
    return value


def _positive(data: dict[str, Any], key: str, where: str, default: int | None) -> int | None:
    value = data.get(key, default)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise SpecError(f"{where}.{key} must be a positive int, got {value!r}")
    return value


def _no_unknown(data: dict[str, Any], allowed: set[str], where: str) -> None:
    unknown = sorted(set(data) - allowed)
    if unknown:
        raise SpecError(f"{where}: unknown field {unknown[0]!r}; valid: "
                        f"{', '.join(sorted(allowed))}")
