"""Worker processes that end with their parent.

A killed ``mrsim dataset build --workers N`` must not leave its workers (hundreds of MB each)
and multiprocessing's resource tracker running and holding the caller's pipes. Each pool
worker runs :func:`worker_init`: on Linux it asks the kernel (``prctl(PR_SET_PDEATHSIG)``)
to send it SIGTERM when its parent dies, whatever the parent died of (``kill -9``
included); elsewhere a daemon thread polls the parent's pid. Workers also ignore SIGINT, so
Ctrl-C reaches only the parent, which stops the pool and prints one line
(:func:`mrsim.command.run_command`), instead of one traceback per worker. Once the workers
are gone the resource tracker sees its pipe close and exits too.
"""

from __future__ import annotations

import ctypes
import os
import signal
import sys
import threading
import time

__all__ = ["worker_init", "terminate_workers"]

_PR_SET_PDEATHSIG = 1  # from <linux/prctl.h>


def _set_parent_death_signal(sig: int) -> bool:
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        return libc.prctl(_PR_SET_PDEATHSIG, int(sig), 0, 0, 0) == 0
    except (OSError, AttributeError):
        return False


def _watch_parent(parent_pid: int, interval_s: float = 1.0) -> None:
    while True:
        if os.getppid() != parent_pid:
            os._exit(1)
        time.sleep(interval_s)


def worker_init(parent_pid: int) -> None:
    """Pool ``initializer``: die with the parent ``parent_pid``; leave SIGINT to it."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if not _set_parent_death_signal(signal.SIGTERM):
        threading.Thread(target=_watch_parent, args=(parent_pid,), daemon=True).start()
    if os.getppid() != parent_pid:  # the parent died before prctl took effect
        os._exit(1)


def terminate_workers(pool) -> None:
    """Stop a ``ProcessPoolExecutor`` now (on Ctrl-C or an error): cancel the queued work and
    terminate the running workers instead of waiting for their shards to finish (the
    half-written shard is redone on the next run)."""
    procs = list((getattr(pool, "_processes", None) or {}).values())  # shutdown clears it
    pool.shutdown(wait=False, cancel_futures=True)
    for proc in procs:
        if proc.is_alive():
            proc.terminate()
    for proc in procs:
        proc.join(timeout=5)
