"""Run an experiment: learn jobs, then transfer jobs, then relearn jobs, in a local
process pool or as Ray tasks (:mod:`exgen.experiments.ray_backend`).

Jobs are ``learn/<agent>/<seed>`` (train with :func:`exgen.agents.training.train` into
``<out>/runs/<agent>/<seed>``: to the budget, keeping the model at the criterion too,
or until the criterion where the preset sets ``stop_at_criterion``),
``training-context/<agent>/<seed>`` (the fully trained agent in its training
context(s), ``train_instances`` fresh held-out episodes), ``transfer/<agent>/<seed>/<test>``
(load the fully trained agent afresh for each held-out terrain or map instance and give
it ``trials`` episodes there, learning between them if it can; a test's
``per_instance`` field, such as ``map_seed``, is set to the instance's held-out seed;
an SB3 agent, which learns nothing while it plays, plays every instance at once:
:mod:`exgen.experiments.held_out`),
``transfer/<agent>@criterion/<seed>/<test>`` (the same from a learning agent's model at
the criterion: an SB3 agent's, or an online agent's that learns and saves, such as
``mbrl``; skipped for a seed that never met it) and ``relearn/<agent>/<seed>/<test>``
(learning agents train on from the fully trained model in a test context until the
criterion). Workers return
records; only this process writes the store, one transaction per job, so a rerun
skips finished jobs and a killed run loses at most the jobs in flight. A job that
raises is stored as failed with its traceback, and the others go on. Ctrl-C or a
``kill`` (SIGTERM) of this process stops the local pool's workers too (a learn job
saves a checkpoint if it can), so no orphan goes on computing what nobody will store.
A worker whose driver died without a word (``kill -9``) gets SIGTERM in turn, from
the kernel on Linux (``PR_SET_PDEATHSIG``) or else from its own watcher thread, and
exits once its job has stopped (:func:`_init_worker`).
"""

from __future__ import annotations

import contextlib
import ctypes
import dataclasses
import json
import multiprocessing
import multiprocessing.connection
import os
import shutil
import signal
import sys
import threading
import time
import traceback
from collections.abc import Iterator
from concurrent.futures import Future, ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from exgen.agents.records import EpisodeRecord, read_log
from exgen.agents.seeds import draw_held_out_seed
from exgen.experiments.spec import AgentSpec, ExperimentSpec, TestSpec
from exgen.experiments.store import AT_CRITERION, FINAL, Job, ResultsStore

if TYPE_CHECKING:
    from exgen.experiments.ray_backend import RayPool

STORE_NAME = "results.sqlite"
#: Where the jobs run: a local process pool, or Ray tasks (``pip install 'exgen[ray]'``).
BACKENDS = ("local", "ray")


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
    """Every learn job, then every transfer job (from each snapshot), training-context
    job and relearn job, of ``spec``."""
    jobs = [Job(f"learn/{a.name}/{seed}", "learn", a.name, seed, _training_name(a))
            for a in spec.agents for seed in spec.seeds]
    jobs += [Job(f"transfer/{a.name}{'' if snapshot == FINAL else '@' + snapshot}/{seed}/"
                 f"{t.name}", "transfer", a.name, seed, _training_name(a), t.name, snapshot)
             for a in spec.agents for snapshot in snapshots(spec, a) for seed in spec.seeds
             for t in spec.tests]
    jobs += [Job(f"training-context/{a.name}/{seed}", "training-context", a.name, seed,
                 _training_name(a)) for a in spec.agents for seed in spec.seeds]
    jobs += [Job(f"relearn/{a.name}/{seed}/{test}", "relearn", a.name, seed,
                 _training_name(a), test)
             for a in spec.agents if _relearns(a) for seed in spec.seeds
             for test in spec.relearn]
    return jobs


def snapshots(spec: ExperimentSpec, agent: AgentSpec) -> tuple[str, ...]:
    """The snapshots of ``agent`` that transfer is measured from: a learning agent's
    fully trained model and its model at the criterion, unless learning stops at the
    criterion (they coincide); the others (a planner learns between trials) have one."""
    return (FINAL, AT_CRITERION) if _relearns(agent) and not spec.stop_at_criterion else (
        FINAL,)


def _relearns(agent: AgentSpec) -> bool:
    """Relearning is measured for the learning agents (the protocol's phase 3): the SB3
    algorithms and any agent class that learns and saves
    (:func:`~exgen.agents.registry.is_learning_agent`)."""
    from exgen.agents.registry import is_learning_agent

    return is_learning_agent(agent.agent)


def redo_jobs(spec: ExperimentSpec, out: str | Path, prefix: str) -> list[str]:
    """Make the finished jobs whose id starts with ``prefix`` (``relearn/dqn``, say)
    pending again, after a fix that invalidates them: their episodes and run folders go
    (and the partial runs of such jobs still pending), and so do those of the transfer
    and relearn jobs built on a redone learn job. Return the finished job ids reset; the
    next run does them all again from the start."""
    out = Path(out)
    jobs = plan_jobs(spec)
    chosen = [j for j in jobs if j.job_id.startswith(prefix)]
    if not chosen:
        raise ValueError(f"no job of {spec.name} ({spec.preset}) starts with {prefix!r}; "
                         f"job ids look like {jobs[0].job_id!r}")
    relearned = {(j.agent, j.seed) for j in chosen if j.kind == "learn"}
    chosen += [j for j in jobs if j.kind != "learn" and (j.agent, j.seed) in relearned
               and j not in chosen]
    with ResultsStore(out / STORE_NAME) as store:
        finished = {j["job_id"] for j in store.jobs(experiment_key(spec))
                    if j["status"] != "pending"}
        for job in chosen:  # a pending job's partial run, too: it would resume
            folder = _job_folder(out, job)
            if folder is not None and folder.exists():
                shutil.rmtree(folder)
        redone = [j.job_id for j in chosen if j.job_id in finished]
        store.reset_jobs(redone)
    return redone


def _job_folder(out: Path, job: Job) -> Path | None:
    """Where a job's training run lives (transfer jobs keep none)."""
    if job.kind == "learn":
        return run_folder(out, job.agent, job.seed)
    if job.kind == "relearn":
        return out / "relearn" / job.agent / str(job.seed) / job.test_context
    return None


def run_experiment(spec: ExperimentSpec, out: str | Path, workers: int | None = None,
                   progress: bool = False, backend: str = "local",
                   address: str | None = None, job_lines: bool = False) -> Path:
    """Run every unfinished job of ``spec``; return the store's path.

    ``backend="local"`` runs the jobs in a process pool of ``workers`` (default: the CPU
    count); ``"ray"`` runs them as Ray tasks (:mod:`exgen.experiments.ray_backend`), at most
    ``workers`` at once, on the cluster whose head is at ``address`` (``HOST:PORT``) or
    on a local Ray instance. Either way only this process writes the store.
    ``progress`` shows a bar per phase; ``job_lines`` prints a line per finished job
    instead, for runs whose output goes to a log file.
    """
    if backend not in BACKENDS:
        raise ValueError(f"backend must be one of {', '.join(BACKENDS)}, got {backend!r}")
    if address is not None and backend != "ray":
        raise ValueError("an address is for the Ray backend: pass backend='ray'")
    ray_pool = None
    if backend == "ray":
        from exgen.experiments.ray_backend import RayPool

        ray_pool = RayPool(address, workers)
        workers = ray_pool.connect()  # before anything is written: a bad address writes nothing
    else:
        workers = workers or max(1, os.cpu_count() or 1)
    try:
        out = Path(out)
        out.mkdir(parents=True, exist_ok=True)
        held_out = _held_out_seed(out, spec)
        with _sigterm_as_interrupt(), ResultsStore(out / STORE_NAME) as store:
            key = experiment_key(spec)
            store.record_experiment(key, {**spec.to_dict(), "held_out_seed": held_out},
                                    spec.env)
            store.add_jobs(key, plan_jobs(spec))
            for kind in ("learn", "transfer", "relearn"):
                done = {j["job_id"] for j in store.jobs(key, "done")}
                learned = {j["job_id"].split("/", 1)[1]: j for j in store.jobs(key, "done")
                           if j["kind"] == "learn"}
                pending = [j for j in plan_jobs(spec) if _PHASES[j.kind] == kind
                           and j.job_id not in done
                           and (kind == "learn" or f"{j.agent}/{j.seed}" in learned)]
                if kind != "learn":
                    pending = _skip_unlearned(store, pending, learned)
                _run_jobs(spec, out, held_out, pending, store, workers, progress, kind,
                          ray_pool, job_lines)
    finally:
        if ray_pool is not None:
            ray_pool.close()
    return out / STORE_NAME


#: The phase each job kind runs in, after the jobs of the phases before it.
_PHASES = {"learn": "learn", "transfer": "transfer", "training-context": "transfer",
           "relearn": "relearn"}
#: The summary of a relearn job that was not run, and why.
NEVER_LEARNED = "never met the criterion while learning; relearning starts from a learned model"
#: The summary of an at-criterion transfer job that was not run, and why.
NOT_MET = "not met: never met the criterion while learning, so no model at the criterion"


def _skip_unlearned(store: ResultsStore, jobs: list[Job],
                    learned: dict[str, dict[str, Any]]) -> list[Job]:
    """Mark done, with no episodes, the jobs that need a seed to have met the criterion
    when it never did: relearning (it measures the cost of meeting it *again*) and
    transfer from the model at the criterion; return the others."""
    keep = []
    for job in jobs:
        summary = json.loads(learned[f"{job.agent}/{job.seed}"]["summary"] or "{}")
        needs = job.kind == "relearn" or job.snapshot == AT_CRITERION
        if needs and (summary.get("criterion") or {}).get("met") is None:
            store.finish_job(job.job_id, [], [], {
                "skipped": NEVER_LEARNED if job.kind == "relearn" else NOT_MET})
        else:
            keep.append(job)
    return keep


def _run_jobs(spec: ExperimentSpec, out: Path, held_out: int, jobs: list[Job],
              store: ResultsStore, workers: int, progress: bool, kind: str,
              ray_pool: RayPool | None = None, job_lines: bool = False) -> None:
    """Run ``jobs`` in the local pool, or as Ray tasks when given ``ray_pool``; commit
    each outcome here, as it arrives, in its own transaction."""
    if not jobs:
        return
    finished = 0
    bar = None
    if progress:
        from tqdm import tqdm

        bar = tqdm(total=len(jobs), unit="job", desc=f"{spec.name} {kind}",
                   dynamic_ncols=True)

    def commit(outcome: Outcome) -> None:
        if outcome.error is None:
            store.finish_job(outcome.job_id, outcome.records, outcome.instances,
                             outcome.summary)
        else:
            store.fail_job(outcome.job_id, outcome.error)
        if bar is not None:
            bar.update(1)
        nonlocal finished
        finished += 1
        if job_lines:
            status = "done" if outcome.error is None else "FAILED"
            print(f"{time.strftime('%Y-%m-%d %H:%M:%S')} {spec.name} {kind} "
                  f"{finished}/{len(jobs)} {status}: {outcome.job_id}", flush=True)

    try:
        if ray_pool is not None:
            ray_pool.run(spec, out, held_out, jobs, commit)
            return
        context = multiprocessing.get_context("spawn")
        others = set(multiprocessing.active_children())
        with _one_thread_per_worker(), ProcessPoolExecutor(
                max_workers=min(workers, len(jobs)), mp_context=context,
                initializer=_init_worker) as pool:
            try:
                futures: dict[Future, Job] = {
                    pool.submit(_work, spec, str(out), held_out, job): job for job in jobs}
                for future in as_completed(futures):
                    job = futures[future]
                    try:
                        outcome = future.result()
                    except Exception:  # the worker process itself died
                        outcome = Outcome(job.job_id, [], [], {}, traceback.format_exc())
                    commit(outcome)
            except BaseException:  # Ctrl-C, kill: the workers stop too
                pool.shutdown(wait=False, cancel_futures=True)
                _stop_processes(set(multiprocessing.active_children()) - others)
                raise
    finally:
        if bar is not None:
            bar.close()


#: The numeric libraries' thread counts in a local pool's workers, where not set: a worker
#: runs one job on one core (two OpenBLAS threads made mbrl's plans 4 times as slow, and
#: two torch threads its model fits 5 times, on two busy cores).
WORKER_THREADS = {"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}


@contextlib.contextmanager
def _one_thread_per_worker() -> Iterator[None]:
    """Within: the variables of :data:`WORKER_THREADS` that are unset are set, for the
    workers spawned meanwhile to read as they import their libraries; then unset again."""
    added = {key: value for key, value in WORKER_THREADS.items() if key not in os.environ}
    os.environ.update(added)
    try:
        yield
    finally:
        for key in added:
            os.environ.pop(key, None)


#: Seconds a stopped worker has to save its checkpoint before it is killed.
STOP_GRACE_S = 10.0


def _stop_processes(processes: set[multiprocessing.Process]) -> None:
    """SIGTERM ``processes`` (a learn job then checkpoints), then kill what is left."""
    for process in processes:
        process.terminate()
    for process in processes:
        process.join(STOP_GRACE_S)
        if process.is_alive():
            process.kill()
            process.join()


#: ``prctl`` option: the signal the kernel sends this process when its parent dies.
PR_SET_PDEATHSIG = 1


def _init_worker() -> None:
    """Pool initializer: end this worker when the driver (its parent) dies, even by
    SIGKILL. The worker gets SIGTERM, as from :func:`_stop_processes` (an idle worker
    dies of it, a learn job stops and saves a checkpoint), and exits after its job, or
    at the latest ``STOP_GRACE_S`` later."""
    parent = multiprocessing.parent_process()
    if parent is None:  # not a spawned child: nothing to watch
        return
    by_kernel = _signal_at_parent_death(signal.SIGTERM)
    if by_kernel and os.getppid() != parent.pid:  # it died before prctl took effect
        os._exit(1)
    threading.Thread(target=_exit_after_parent, args=(parent.sentinel, by_kernel),
                     name="exgen-parent-watch", daemon=True).start()


def _signal_at_parent_death(signum: int) -> bool:
    """Ask the Linux kernel to send ``signum`` to this process when its parent dies;
    return whether it will (False elsewhere, or where prctl is not available)."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(None, use_errno=True)  # the C library this Python runs on
        return libc.prctl(PR_SET_PDEATHSIG, ctypes.c_ulong(signum)) == 0
    except (OSError, AttributeError):
        return False


def _exit_after_parent(sentinel: int, by_kernel: bool) -> None:
    """Watcher thread: wait until the parent's ``sentinel`` (a pipe it holds open) says
    it died; then SIGTERM this worker unless the kernel does, and ``os._exit`` once
    ``STOP_GRACE_S`` have passed (a worker whose job has stopped exits sooner, in
    :func:`_work`)."""
    multiprocessing.connection.wait([sentinel])
    if not by_kernel:
        os.kill(os.getpid(), signal.SIGTERM)
    time.sleep(STOP_GRACE_S)
    os._exit(1)


@contextlib.contextmanager
def _sigterm_as_interrupt() -> Iterator[None]:
    """Within: SIGTERM raises KeyboardInterrupt, as Ctrl-C does (main thread only)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def interrupt(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _work(spec: ExperimentSpec, out: str, held_out: int, job: Job) -> Outcome:
    """Run one job in a worker process; never raise. A worker whose driver died exits
    as its job ends: nobody is left to store the outcome."""
    try:
        import exgen  # noqa: F401  (registers the env ids in a spawned worker)

        agent = next(a for a in spec.agents if a.name == job.agent)
        if job.kind == "learn":
            return _learn(spec, Path(out), agent, job)
        if job.kind == "training-context":
            return _training_context(spec, Path(out), held_out, agent, job)
        test = next(t for t in spec.tests if t.name == job.test_context)
        if job.kind == "relearn":
            return _learn(spec, Path(out), agent, job, test, held_out)
        return _transfer(spec, Path(out), held_out, agent, test, job)
    except Exception:
        return Outcome(job.job_id, [], [], {}, traceback.format_exc())
    finally:
        if _driver_died():
            os._exit(1)


def _driver_died() -> bool:
    """Whether this process is a spawned worker whose parent, the driver, has died (its
    sentinel, a pipe the parent holds open, is then readable)."""
    parent = multiprocessing.parent_process()
    return parent is not None and bool(multiprocessing.connection.wait([parent.sentinel], 0))


def _learn(spec: ExperimentSpec, out: Path, agent: AgentSpec, job: Job,
           relearn_in: TestSpec | None = None, held_out: int = 0) -> Outcome:
    """Learn from scratch in the training context, to the budget (until the criterion
    where the preset sets ``stop_at_criterion``), or relearn from the fully trained model
    in a test context (its first instance), until the criterion or the budget."""
    from exgen.agents.training import RunSpec, default_vec_env, train

    steps, episodes = spec.budget_of(agent)
    folder = run_folder(out, agent.name, job.seed)
    initial_model = None
    env_kwargs = (agent_env_kwargs(agent, agent.train[0]) if len(agent.train) == 1 else
                  {"contexts": [agent_env_kwargs(agent, c) for c in agent.train]})  # a mixture
    if relearn_in is not None:
        steps, episodes = spec.relearn_budget_of(agent)
        initial_model = str(_final_model(folder))
        folder = _job_folder(out, job)
        env_kwargs = agent_env_kwargs(agent, instance_context(relearn_in, held_out, 0))
    run = RunSpec(agent=agent.agent, env_id=spec.env, out=folder, seed=job.seed,
                  initial_model=initial_model,
                  env_kwargs=env_kwargs, total_timesteps=steps,
                  total_episodes=episodes, hyperparameters=agent.hyperparameters,
                  eval_every_steps=spec.eval_every_of(agent),
                  checkpoint_every_steps=max(spec.eval_every_steps, 10_000),
                  stop_at_criterion=relearn_in is not None or spec.stop_at_criterion,
                  vec_env=agent.vec_env or default_vec_env(agent.agent, spec.env,
                                                           env_kwargs))
    summary = train(run, resume=(folder / "run.json").exists())
    # Stored under the experiment's name for the agent (the log has the registry name).
    records = [dataclasses.replace(EpisodeRecord.from_row(row), agent=agent.name)
               for row in read_log(folder / "monitor.csv")]
    return Outcome(job.job_id, records, [None] * len(records), summary)


def _final_model(folder: Path) -> Path:
    """The fully trained model of learning run ``folder`` (an SB3 zip, or an online
    agent's pickle), which relearning starts from."""
    from exgen.agents.training import final_model

    model = final_model(folder)
    if model is None:
        raise FileNotFoundError(f"{folder} holds no fully trained model (model.zip or "
                                f".pkl) to relearn from")
    return model


def _transfer(spec: ExperimentSpec, out: Path, held_out: int, agent: AgentSpec,
              test: TestSpec, job: Job) -> Outcome:
    """The agent from ``job``'s snapshot in each held-out instance of ``test``: its
    trials, judged as the criterion judges (deterministic actions), learning between
    trials where it learns online (:func:`~exgen.experiments.held_out.play_instances`)."""
    from exgen.experiments.held_out import play_instances

    count = spec.instances_of(test)
    played = play_instances(
        spec.env, snapshot_path(run_folder(out, agent.name, job.seed), job.snapshot),
        [agent_env_kwargs(agent, instance_context(test, held_out, i)) for i in range(count)],
        held_out, spec.trials, agent_name=agent.name, learn=True)
    records: list[EpisodeRecord] = []
    instances: list[int | None] = []
    for instance, trials in enumerate(played):
        for trial in trials:
            records.append(dataclasses.replace(
                trial, episode=instance * spec.trials + trial.episode, agent=agent.name,
                seed=job.seed))
            instances.append(instance)
    return Outcome(job.job_id, records, instances, {"trials": spec.trials,
                                                    "instances": count,
                                                    "snapshot": job.snapshot})


def _training_context(spec: ExperimentSpec, out: Path, held_out: int, agent: AgentSpec,
                      job: Job) -> Outcome:
    """The fully trained agent in its training context(s): ``spec.train_instances``
    fresh held-out episodes, each as a first transfer trial is played (deterministic,
    without learning, from the snapshot); spread over the contexts of a mixture and the
    maps of a list of them (:func:`training_instances`)."""
    from exgen.experiments.held_out import play_instances

    played = play_instances(
        spec.env, run_folder(out, agent.name, job.seed),
        [agent_env_kwargs(agent, context) for context in
         training_instances(spec.env, agent, spec.train_instances)],
        held_out + training_seed_offset(spec), 1, agent_name=agent.name, learn=False)
    records = [dataclasses.replace(episode, episode=instance, agent=agent.name,
                                   seed=job.seed)
               for instance, (episode,) in enumerate(played)]
    return Outcome(job.job_id, records, list(range(len(records))),
                   {"instances": len(records), "snapshot": FINAL})


def training_instances(env_id: str, agent: AgentSpec, count: int) -> list[dict[str, Any]]:
    """``count`` training contexts of ``agent``, in turn: each context of its mixture,
    and each value of a categorical field given as a list (the twenty cities' map
    seeds); numeric ranges stay ranges, drawn at each reset."""
    import itertools

    from exgen.envs.world_info import world_info

    categorical = world_info(env_id).categorical_fields
    expanded = []
    for context in agent.train:
        lists = {k: v for k, v in context.items() if k in categorical and isinstance(v, tuple)}
        for values in itertools.product(*lists.values()):
            expanded.append({**context, **dict(zip(lists, values, strict=True))})
    return [expanded[i % len(expanded)] for i in range(count)]


def training_seed_offset(spec: ExperimentSpec) -> int:
    """Training-context episodes take the held-out seeds after the test instances'."""
    return max(spec.instances_of(t) for t in spec.tests)


def snapshot_path(folder: Path, snapshot: str) -> Path:
    """What to load for ``snapshot`` of run ``folder``: the folder (its final model) or
    its model at the criterion."""
    from exgen.agents.training import criterion_model

    if snapshot == FINAL:
        return folder
    path = criterion_model(folder)
    if path is None:
        raise FileNotFoundError(f"{folder} holds no model at the criterion "
                                f"(criterion_model.zip or .pkl)")
    return path


def instance_context(test: TestSpec, held_out: int, instance: int) -> dict[str, Any]:
    """The context of a test's ``instance``: its ``per_instance`` field (an unseen
    city, say) set to the instance's held-out seed, the same over its trials."""
    if test.per_instance is None:
        return dict(test.context)
    return {**test.context, test.per_instance: held_out + instance}


def run_folder(out: Path, agent: str, seed: int) -> Path:
    return out / "runs" / agent / str(seed)


def agent_env_kwargs(agent: AgentSpec, context: dict[str, Any]) -> dict[str, Any]:
    """The env arguments of ``agent`` in ``context``: the context and its interface."""
    kwargs = {**context, **agent.interface}
    if agent.observe_context:
        kwargs["observe_context"] = True
    return kwargs


def _training_name(agent: AgentSpec) -> str:
    """The training set as text: its one context, or the list of them."""
    return json.dumps(agent.train[0] if len(agent.train) == 1 else list(agent.train),
                      sort_keys=True)


def _held_out_seed(out: Path, spec: ExperimentSpec) -> int:
    """The first held-out seed of this experiment: drawn once, kept for reruns."""
    path = out / "held_out_seed.json"
    if path.exists():
        return int(json.loads(path.read_text(encoding="utf-8"))["held_out_seed"])
    seed = draw_held_out_seed(training_seed_offset(spec) + spec.train_instances)
    path.write_text(json.dumps({"held_out_seed": seed}) + "\n", encoding="utf-8")
    return seed
