"""Run an experiment: learn jobs, then transfer jobs, in a local process pool.

Jobs are ``learn/<agent>/<seed>`` (train with :func:`agents.training.train` into
``<out>/runs/<agent>/<seed>``) and ``transfer/<agent>/<seed>/<test>`` (load the
post-learning agent afresh for each of ``instances`` held-out terrain instances and
give it ``trials`` episodes there, learning between them if it can). Workers return
records; only this process writes the store, one transaction per job, so a rerun
skips finished jobs and a killed run loses at most the jobs in flight. A job that
raises is stored as failed with its traceback, and the others go on.
"""

from __future__ import annotations

import dataclasses
import json
import multiprocessing
import os
import traceback
from concurrent.futures import Future, ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from agents.records import EpisodeRecord, read_log
from agents.seeds import draw_held_out_seed
from experiments.spec import AgentSpec, ExperimentSpec, TestSpec
from experiments.store import Job, ResultsStore

STORE_NAME = "results.sqlite"


@dataclass(frozen=True)
class Outcome:
    """What a worker hands back: the job's records, or its traceback."""

    job_id: str
    records: list[EpisodeRecord]
    instances: list[int | None]
    summary: dict[str, Any]
    error: str | None = None


def experiment_key(spec: ExperimentSpec) -> str:
    return f"{spec.name}:{spec.preset}"


def plan_jobs(spec: ExperimentSpec) -> list[Job]:
    """Every learn job, then every transfer job, of ``spec``."""
    jobs = [Job(f"learn/{a.name}/{seed}", "learn", a.name, seed, _training_name(a))
            for a in spec.agents for seed in spec.seeds]
    jobs += [Job(f"transfer/{a.name}/{seed}/{t.name}", "transfer", a.name, seed,
                 _training_name(a), t.name)
             for a in spec.agents for seed in spec.seeds for t in spec.tests]
    jobs += [Job(f"relearn/{a.name}/{seed}/{test}", "relearn", a.name, seed,
                 _training_name(a), test)
             for a in spec.agents if _relearns(a) for seed in spec.seeds
             for test in spec.relearn]
    return jobs


def _relearns(agent: AgentSpec) -> bool:
    """Relearning is measured for the RL algorithms (the protocol's phase 3)."""
    from agents.sb3 import ALGORITHMS

    return agent.agent in ALGORITHMS


def run_experiment(spec: ExperimentSpec, out: str | Path, workers: int | None = None,
                   progress: bool = False) -> Path:
    """Run every unfinished job of ``spec``; return the store's path."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    held_out = _held_out_seed(out, spec)
    store = ResultsStore(out / STORE_NAME)
    key = experiment_key(spec)
    store.record_experiment(key, {**spec.to_dict(), "held_out_seed": held_out}, spec.env)
    store.add_jobs(key, plan_jobs(spec))
    workers = workers or max(1, os.cpu_count() or 1)
    try:
        for kind in ("learn", "transfer", "relearn"):
            done = {j["job_id"] for j in store.jobs(key, "done")}
            learned = {j["job_id"].split("/", 1)[1] for j in store.jobs(key, "done")
                       if j["kind"] == "learn"}
            pending = [j for j in plan_jobs(spec) if j.kind == kind and j.job_id not in done
                       and (kind == "learn" or f"{j.agent}/{j.seed}" in learned)]
            _run_jobs(spec, out, held_out, pending, store, workers, progress, kind)
    finally:
        store.close()
    return out / STORE_NAME


def _run_jobs(spec: ExperimentSpec, out: Path, held_out: int, jobs: list[Job],
              store: ResultsStore, workers: int, progress: bool, kind: str) -> None:
    if not jobs:
        return
    bar = None
    if progress:
        from tqdm import tqdm

        bar = tqdm(total=len(jobs), unit="job", desc=f"{spec.name} {kind}",
                   dynamic_ncols=True)
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=min(workers, len(jobs)), mp_context=context) as pool:
        futures: dict[Future, Job] = {
            pool.submit(_work, spec, str(out), held_out, job): job for job in jobs}
        for future in as_completed(futures):
            job = futures[future]
            try:
                outcome = future.result()
            except Exception:  # the worker process itself died
                outcome = Outcome(job.job_id, [], [], {}, traceback.format_exc())
            if outcome.error is None:
                store.finish_job(outcome.job_id, outcome.records, outcome.instances,
                                 outcome.summary)
            else:
                store.fail_job(outcome.job_id, outcome.error)
            if bar is not None:
                bar.update(1)
    if bar is not None:
        bar.close()


def _work(spec: ExperimentSpec, out: str, held_out: int, job: Job) -> Outcome:
    """Run one job in a worker process; never raise."""
    try:
        import envs  # noqa: F401  (registers the env ids in a spawned worker)

        agent = next(a for a in spec.agents if a.name == job.agent)
        if job.kind == "learn":
            return _learn(spec, Path(out), agent, job)
        test = next(t for t in spec.tests if t.name == job.test_context)
        if job.kind == "relearn":
            return _learn(spec, Path(out), agent, job, test)
        return _transfer(spec, Path(out), held_out, agent, test, job)
    except Exception:
        return Outcome(job.job_id, [], [], {}, traceback.format_exc())


def _learn(spec: ExperimentSpec, out: Path, agent: AgentSpec, job: Job,
           relearn_in: TestSpec | None = None) -> Outcome:
    """Learn from scratch in the training context, or relearn from the post-learning
    model in a test context; until the criterion or the budget either way."""
    from agents.training import RunSpec, train

    steps, episodes = spec.budget_of(agent)
    folder = run_folder(out, agent.name, job.seed)
    initial_model = None
    context = agent.train[0]
    if relearn_in is not None:
        initial_model = str(folder / "model.zip")
        folder = out / "relearn" / agent.name / str(job.seed) / relearn_in.name
        context = relearn_in.context
    run = RunSpec(agent=agent.agent, env_id=spec.env, out=folder, seed=job.seed,
                  initial_model=initial_model,
                  env_kwargs=_env_kwargs(agent, context), total_timesteps=steps,
                  total_episodes=episodes, hyperparameters=agent.hyperparameters,
                  eval_every_steps=spec.eval_every_steps if episodes is None else 1,
                  checkpoint_every_steps=max(spec.eval_every_steps, 10_000),
                  stop_at_criterion=True)  # the protocol: learn until the criterion
    summary = train(run, resume=(folder / "run.json").exists())
    # Stored under the experiment's name for the agent (the log has the registry name).
    records = [dataclasses.replace(EpisodeRecord.from_row(row), agent=agent.name)
               for row in read_log(folder / "monitor.csv")]
    return Outcome(job.job_id, records, [None] * len(records), summary)


def _transfer(spec: ExperimentSpec, out: Path, held_out: int, agent: AgentSpec,
              test: TestSpec, job: Job) -> Outcome:
    import gymnasium as gym

    from agents.runner import run_episodes
    from agents.training import load_trained_agent

    records: list[EpisodeRecord] = []
    instances: list[int | None] = []
    folder = run_folder(out, agent.name, job.seed)
    for instance in range(spec.instances):
        env = gym.make(spec.env, **_env_kwargs(agent, test.context))
        learner, _ = load_trained_agent(folder, env=env)  # afresh: no leakage
        learner.env = getattr(learner, "env", None) or env
        trials = run_episodes(learner, env, spec.trials, seed=held_out + instance,
                              learn=True, agent_name=agent.name)
        for trial in trials:
            records.append(EpisodeRecord(
                episode=instance * spec.trials + trial.episode, total_steps=trial.total_steps,
                episode_return=trial.episode_return, length=trial.length,
                is_success=trial.is_success, outcome=trial.outcome,
                wall_time=trial.wall_time, agent=agent.name, seed=job.seed,
                context=trial.context))
            instances.append(instance)
        env.close()
    return Outcome(job.job_id, records, instances, {"trials": spec.trials,
                                                    "instances": spec.instances})


def run_folder(out: Path, agent: str, seed: int) -> Path:
    return out / "runs" / agent / str(seed)


def _env_kwargs(agent: AgentSpec, context: dict[str, Any]) -> dict[str, Any]:
    kwargs = dict(context)
    if agent.observe_context:
        kwargs["observe_context"] = True
    return kwargs


def _training_name(agent: AgentSpec) -> str:
    if len(agent.train) != 1:
        raise ValueError(f"agent {agent.name!r}: training on several contexts is not "
                         f"supported yet; give one context (ranges randomize it)")
    return json.dumps(agent.train[0], sort_keys=True)


def _held_out_seed(out: Path, spec: ExperimentSpec) -> int:
    """The first held-out seed of this experiment: drawn once, kept for reruns."""
    path = out / "held_out_seed.json"
    if path.exists():
        return int(json.loads(path.read_text(encoding="utf-8"))["held_out_seed"])
    seed = draw_held_out_seed(spec.instances)
    path.write_text(json.dumps({"held_out_seed": seed}) + "\n", encoding="utf-8")
    return seed
