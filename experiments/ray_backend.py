"""Run the runner's jobs as Ray tasks, on a local Ray instance or on a cluster.

The same jobs as the local process pool (:func:`exgen.experiments.scheduler._work`), one Ray
task each with ``num_cpus=1``, at most ``workers`` in flight. Tasks only return their
:class:`~exgen.experiments.scheduler.Outcome`; the driver commits it to the SQLite store, one
transaction per job as on the local path, so no worker ever writes the store. A task
whose worker process or node dies is retried by Ray (``MAX_RETRIES`` times); a learn
job's retry resumes from the checkpoints in its run folder, a transfer job writes
nothing and starts over. Workers on other nodes read and write the run folders under
``out``: it must be on a filesystem that every node sees at the same path.

Ray is optional (``pip install 'exgen[ray]'``); this module imports it only when used.
"""

from __future__ import annotations

import logging
import os
import socket
import traceback
from collections import deque
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from exgen.experiments.scheduler import Outcome
    from exgen.experiments.spec import ExperimentSpec
    from exgen.experiments.store import Job

#: How often Ray reruns a task whose worker process or node died.
MAX_RETRIES = 3
#: Shared memory of a local Ray instance [bytes]: it only carries the jobs' records.
LOCAL_OBJECT_STORE_BYTES = 256 * 2**20
#: How long the address check waits for the cluster's GCS port to answer [s].
CONNECT_TIMEOUT_S = 5.0
INSTALL_HINT = "pip install 'exgen[ray]'"


class BackendError(ValueError):
    """Ray cannot run the jobs as asked (not installed, no cluster there): one line."""


def check(address: str | None) -> None:
    """Fail fast, in one line, when Ray is missing or nothing answers at ``address``.

    ``address`` is ``HOST:PORT`` of a running cluster's head (``ray start --head``), or
    ``auto`` for the cluster started on this machine; None means a new local instance.
    """
    try:
        import ray  # noqa: F401
    except ImportError:
        raise BackendError(f"the Ray backend needs Ray, which is not installed: "
                           f"{INSTALL_HINT}") from None
    if address is None or address == "auto":
        return
    host, port = split_address(address)
    try:
        socket.create_connection((host, port), timeout=CONNECT_TIMEOUT_S).close()
    except OSError as error:
        reason = error.strerror or type(error).__name__
        raise BackendError(f"no Ray cluster answers at {address} ({reason}); start one with "
                           f"`ray start --head` or leave out --address") from None


def split_address(address: str) -> tuple[str, int]:
    """``"10.0.0.5:6379"`` -> ``("10.0.0.5", 6379)``; anything else is a BackendError."""
    host, separator, port = address.rpartition(":")
    if not separator or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise BackendError(f"a Ray address is HOST:PORT (the head's GCS port, 6379 by "
                           f"default) or auto, got {address!r}")
    return host.strip("[]"), int(port)


class RayPool:
    """Ray tasks for the runner's jobs: :meth:`connect` (or the first :meth:`run`) joins
    or starts Ray, and :meth:`close` shuts down what it started.

    ``address`` None starts a local Ray instance with ``workers`` CPUs (default: this
    machine's count) unless this process already holds a Ray connection, which is then
    used and left open. ``workers`` caps the tasks in flight (default: the cluster's
    CPUs); each task asks Ray for one CPU.
    """

    def __init__(self, address: str | None = None, workers: int | None = None) -> None:
        if address is not None and address != "auto":
            split_address(address)
        self.address = address
        self.workers = workers
        self._started = False  # whether this pool called ray.init (and so shuts down)
        self._connected = False
        #: Tasks in flight at most, once connected.
        self.limit = workers or 1

    def connect(self) -> int:
        """Join or start Ray; return how many tasks may run at once."""
        if not self._connected:
            check(self.address)
            import ray

            if ray.is_initialized():
                if self.address is not None:
                    raise BackendError("this process is already connected to Ray; call "
                                       "ray.shutdown() first or pass no address")
            else:
                self._init(ray)
                self._started = True
            self._connected = True
            self.limit = self.workers or max(1, int(ray.cluster_resources().get("CPU", 1)))
        return self.limit

    def _init(self, ray: Any) -> None:
        os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
        quiet: dict[str, Any] = {"log_to_driver": False, "logging_level": logging.ERROR}
        try:
            if self.address is None:
                ray.init(address="local", num_cpus=self.workers or os.cpu_count() or 1,
                         include_dashboard=False,
                         object_store_memory=LOCAL_OBJECT_STORE_BYTES, **quiet)
            else:
                ray.init(address=self.address, **quiet)
        except (ConnectionError, RuntimeError, ValueError, ray.exceptions.RayError) as error:
            first = str(error).strip().splitlines()[0] if str(error).strip() else ""
            where = self.address or "a local instance"
            hint = ""
            if self.address is not None and "RAY_AUTH_MODE" not in os.environ:
                hint = ("; if the cluster uses token authentication, set RAY_AUTH_MODE=token "
                        "and its token (ray get-auth-token) here")
            raise BackendError(f"cannot start or join Ray at {where}: "
                               f"{first or type(error).__name__}{hint}") from error

    def run(self, spec: ExperimentSpec, out: Path, held_out: int, jobs: Sequence[Job],
            commit: Callable[[Outcome], None]) -> None:
        """Run ``jobs`` as Ray tasks; hand each outcome to ``commit`` as it arrives."""
        import ray

        from exgen.experiments.scheduler import Outcome, _work

        limit = self.connect()
        work = ray.remote(_work).options(num_cpus=1, max_retries=MAX_RETRIES,
                                         retry_exceptions=False)
        spec_ref = ray.put(spec)
        queue = deque(jobs)
        in_flight: dict[Any, Job] = {}
        try:
            while queue or in_flight:
                while queue and len(in_flight) < limit:
                    job = queue.popleft()
                    in_flight[work.remote(spec_ref, str(out), held_out, job)] = job
                ready, _ = ray.wait(list(in_flight), num_returns=1)
                job = in_flight.pop(ready[0])
                try:
                    outcome = ray.get(ready[0])
                except ray.exceptions.RayError:  # retries spent, or the task was lost
                    outcome = Outcome(job.job_id, [], [], {}, traceback.format_exc())
                commit(outcome)
        finally:
            for ref in in_flight:  # interrupted: stop what no one will commit
                ray.cancel(ref, force=True)

    def close(self) -> None:
        """Shut Ray down if this pool started it."""
        if self._started:
            import ray

            ray.shutdown()
        self._started = self._connected = False
