"""Where chunks run: in this process, a local process pool, or a Dask cluster.

All three are a :class:`concurrent.futures.Executor`, so the runner has one
code path. Dask is imported only when asked for; ``--dask local`` starts a
``LocalCluster`` bound to 127.0.0.1 (no dashboard), anything else is the
address of a running scheduler (``tcp://host:8786``).
"""

from __future__ import annotations

from concurrent.futures import Executor, ProcessPoolExecutor
from typing import Any

from ..engine.parallel import SerialExecutor, default_workers, process_pool
from ..errors import ChannelError


class Workers:
    """The executor for ``--workers N`` / ``--dask ADDRESS|local``, as a context manager.

    ``executor`` is a :class:`concurrent.futures.Executor`; ``parallelism`` is
    how many chunks it runs at once; :meth:`renew` replaces a process pool
    whose worker died (Dask reschedules lost tasks itself). ``tasks`` (the chunks to run) caps the
    local processes started: a sweep with one chunk left starts one process, whatever ``workers`` says.
    """

    def __init__(self, workers: int | None = None, dask: str | None = None, tasks: int | None = None) -> None:
        if workers is not None and (isinstance(workers, bool) or int(workers) < 1):
            raise ChannelError(f"--workers {workers}: must be >= 1")
        self.dask = dask
        self.requested = workers
        self.tasks = None if tasks is None else max(int(tasks), 1)
        self.executor: Executor = SerialExecutor()
        self.parallelism = 1
        self.description = "this process"
        self._client: Any = None
        self._cluster: Any = None

    def __enter__(self) -> Workers:
        if self.dask:
            self._start_dask()
        else:
            n = self._capped(default_workers() if self.requested is None else int(self.requested))
            if n > 1:
                self.executor, self.parallelism, self.description = process_pool(n), n, f"{n} local processes"
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _capped(self, n: int) -> int:
        return n if self.tasks is None else min(n, self.tasks)

    def renew(self) -> None:
        """Start a fresh process pool after a worker died."""
        if isinstance(self.executor, ProcessPoolExecutor):
            self.executor.shutdown(wait=False, cancel_futures=True)
            self.executor = process_pool(self.parallelism)

    def close(self) -> None:
        if isinstance(self.executor, ProcessPoolExecutor):
            self.executor.shutdown(wait=True, cancel_futures=True)
        if self._client is not None:
            self._client.close()
            self._client = None
        if self._cluster is not None:
            self._cluster.close()
            self._cluster = None

    def _start_dask(self) -> None:
        try:
            from distributed import Client, LocalCluster
        except ImportError:
            raise ChannelError("--dask needs dask.distributed: pip install 'dask[distributed]'") from None
        if self.dask == "local":
            n = self._capped(self.requested or default_workers())
            # Bound to the loopback interface: a local cluster is never reachable from the network.
            self._cluster = LocalCluster(
                n_workers=n,
                threads_per_worker=1,
                processes=True,
                host="127.0.0.1",
                dashboard_address="127.0.0.1:0",  # its HTTP server on a free loopback port, never 8787 shared
                silence_logs=40,
            )
            self._client = Client(self._cluster)
        else:
            try:
                self._client = Client(self.dask, timeout="10s")
            except OSError as exc:
                raise ChannelError(f"--dask {self.dask}: cannot reach the scheduler ({exc})") from None
        workers = self._client.scheduler_info().get("workers", {})
        self.parallelism = max(1, sum(int(w.get("nthreads", 1)) for w in workers.values()))
        self.executor = self._client.get_executor(pure=False)
        self.description = f"Dask at {self._client.scheduler.address} ({len(workers)} workers)"
