"""Errors in parallel runs: an error raised on some ranks reaches every rank as the same exception.

A rank that raises while the others enter the next collective operation leaves them blocked for ever.
Code that may fail on some ranks only (checks of local nodes, rank-0 writes) runs inside
:func:`agree`, which ends with one collective vote: if any rank failed, every rank raises. The
exceptions that went through a vote are marked (:func:`is_collective`), so the command line prints
them once; for any other error :func:`all_ranks_failed` tells, without blocking, whether every rank
is failing too.
"""
from __future__ import annotations

import time
from contextlib import contextmanager

from mpi4py import MPI

from dgkinetic.errors import InputError, NonPhysicalStateError

__all__ = ["RankError", "agree", "is_collective", "all_ranks_failed", "root_cause"]

_KINDS = {"input": InputError, "nonphysical": NonPhysicalStateError}


class RankError(RuntimeError):
    """Raised on the ranks that did not fail themselves when another rank failed unexpectedly."""


def _kind(error: BaseException) -> str:
    if isinstance(error, InputError):
        return "input"
    if isinstance(error, NonPhysicalStateError):
        return "nonphysical"
    return "other"


def _mark(error: BaseException) -> BaseException:
    error.collective = True
    return error


def is_collective(error: BaseException) -> bool:
    """True if every rank raised ``error`` (or its copy) after a vote of :func:`agree`."""
    return bool(getattr(error, "collective", False))


@contextmanager
def agree(comm=MPI.COMM_WORLD):
    """Run a block on every rank; if it raises on any rank, raise on every rank.

    The rank that failed re-raises its own exception; the others raise an exception of the same kind
    (:class:`InputError`, :class:`NonPhysicalStateError`, else :class:`RankError`) with the message
    of the lowest failing rank. The block must contain no collective operation that a failing rank
    could skip. Costs one ``allreduce`` of a flag (one more on failure).

    Parameters
    ----------
    comm
        The communicator of every rank that runs the block.
    """
    error = None
    try:
        yield
    except Exception as e:                     # noqa: BLE001  (every kind must reach the vote)
        error = e
    if comm.size == 1:
        if error is not None:
            raise _mark(error)
        return
    if not comm.allreduce(error is not None, op=MPI.LOR):
        return
    reports = comm.allgather(None if error is None else (_kind(error), str(error)))
    if error is not None:
        raise _mark(error)
    rank, (kind, message) = next((r, x) for r, x in enumerate(reports) if x is not None)
    if kind in _KINDS:
        raise _mark(_KINDS[kind](message))
    raise _mark(RankError(f"rank {rank} failed: {message}"))


def all_ranks_failed(comm, timeout: float = 10.0) -> bool:
    """Whether every rank of ``comm`` calls this within ``timeout`` seconds (non-blocking barrier).

    Called by a failing rank: True means the error is the same everywhere (report it once and exit);
    False means the other ranks are elsewhere, possibly blocked in a collective operation, and only
    an abort ends the run. ``comm`` must be a communicator used for nothing else (a ``Dup``), so the
    barrier cannot match another collective.
    """
    if comm.size == 1:
        return True
    request = comm.Ibarrier()
    deadline = time.monotonic() + timeout
    while not request.Test():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.005)
    return True


def root_cause(error: BaseException) -> BaseException:
    """The error that explains ``error``: the first of its chain that dgkinetic raised on purpose
    (input, non-physical state, a vote), else the innermost (errors raised inside PETSc callbacks
    arrive wrapped in a PETSc error)."""
    chain, seen = [], set()
    while error is not None and id(error) not in seen:
        seen.add(id(error))
        chain.append(error)
        error = error.__cause__ or (None if error.__suppress_context__ else error.__context__)
    for e in chain:
        if isinstance(e, (InputError, NonPhysicalStateError, RankError)) or is_collective(e):
            return e
    return chain[-1]
