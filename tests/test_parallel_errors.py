"""An error on one MPI rank ends every rank quickly, with one line and a non-zero status.

Each case fails on some ranks only: a Sod left state too hot for the velocity grid (only the ranks
owning x < 1/2 see it), a rank owning no space nodes, and a write that fails on rank 0 (the only
writer). Without the collective vote the other ranks would wait in the next collective operation for
ever; the command line's fallback then aborts the run after a 10 s grace (MPI_ABORT in the output),
which these tests refuse: the vote must end every rank normally.
"""
import os
import subprocess
import sys
import time

from test_cli import base_case, replace, write_case

TIMEOUT = 90


def mpirun(ranks, *args):
    env = dict(os.environ, OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1",
               OMPI_MCA_rmaps_base_oversubscribe="1", OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1")
    start = time.perf_counter()
    r = subprocess.run(["mpiexec", "-n", str(ranks), sys.executable, "-m", "dgkinetic.cli", *args],
                       capture_output=True, text=True, env=env, timeout=TIMEOUT)
    return r, time.perf_counter() - start


def one_line(r, word):
    ours = [x for x in r.stderr.splitlines() if x.startswith(("dgkinetic: error", "dgkinetic: stopped"))]
    assert r.returncode != 0, r.stderr[-2000:]
    assert len(ours) == 1, r.stderr[-2000:]
    assert "Traceback" not in r.stderr, r.stderr[-2000:]
    # every rank stopped on its own after the vote: no abort (the fallback for a lone rank's error)
    assert "MPI_ABORT" not in r.stderr, r.stderr[-2000:]
    assert word.lower() in ours[0].lower(), ours[0]


def test_error_on_the_left_ranks_only(tmp_path):
    text = replace(base_case(tmp_path), 'profile = "sine"\namplitude = 0.3',
                   'profile = "sod"\nleft = {temperature = 9.0}')
    r, seconds = mpirun(2, "run", write_case(tmp_path, text))
    one_line(r, "too small")
    assert r.returncode != 0 and seconds < TIMEOUT


def test_rank_without_space_nodes(tmp_path):
    text = replace(base_case(tmp_path), "cells = 6", "cells = 2")
    r, _ = mpirun(3, "check", write_case(tmp_path, text))
    one_line(r, "without nodes")


def test_rank0_write_failure_reaches_every_rank_and_keeps_nothing_half_written(tmp_path):
    """diagnostics.h5.part is a directory: rank 0's first flush fails, every rank stops with one line."""
    out = tmp_path / "out"
    (out / "diagnostics.h5.part").mkdir(parents=True)
    r, _ = mpirun(2, "run", write_case(tmp_path, base_case(tmp_path)))
    one_line(r, "cannot write")
    assert not (out / "diagnostics.h5").exists()


AGREE = """
import json
from mpi4py import MPI
from dgkinetic.collective import agree, is_collective
from dgkinetic.errors import NonPhysicalStateError
comm = MPI.COMM_WORLD
try:
    with agree(comm):
        if comm.rank == 1:
            raise NonPhysicalStateError("density -1 at x=[0.9]")
    result = None
except NonPhysicalStateError as e:
    result = [str(e), is_collective(e)]
with agree(comm):
    pass                                   # nobody fails: no error anywhere
results = comm.gather(result)
if comm.rank == 0:
    print(json.dumps(results), flush=True)
"""


def test_agree_raises_the_same_error_on_every_rank():
    """A non-physical state found by rank 1 alone reaches rank 0 as the same kind and message."""
    env = dict(os.environ, OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1",
               OMPI_MCA_rmaps_base_oversubscribe="1", OMP_NUM_THREADS="1")
    r = subprocess.run(["mpiexec", "-n", "2", sys.executable, "-c", AGREE], capture_output=True, text=True,
                       env=env, timeout=TIMEOUT)
    assert r.returncode == 0, r.stderr[-2000:]
    import json
    results = json.loads(r.stdout.strip().splitlines()[-1])
    assert results == [["density -1 at x=[0.9]", True], ["density -1 at x=[0.9]", True]]


def test_equilibrium_failing_on_the_left_ranks_only(tmp_path):
    """A Fermi density above the grid's Pauli limit on the left half only: the per-node equilibrium
    solve fails on the ranks owning x < 1/2 (after the resolution checks passed), and every rank
    stops with one line."""
    text = replace(base_case(tmp_path), 'profile = "sine"\namplitude = 0.3',
                   'profile = "sod"\nleft = {density = [2000.0, 0.5]}')
    text = replace(text, 'name = "a"\nmass = 1.0', 'name = "a"\nmass = 1.0\nstatistics = "fermi"')
    r, seconds = mpirun(2, "check", write_case(tmp_path, text))
    one_line(r, "Pauli limit")
    assert seconds < TIMEOUT


def test_python_api_refuses_a_rank_without_nodes():
    """Through the Python API (no case file), a phase space leaving a rank without nodes raises the
    same InputError on every rank at once, instead of failing deep in a kernel on that rank alone."""
    here = os.path.dirname(os.path.abspath(__file__))
    env = dict(os.environ, OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1",
               OMPI_MCA_rmaps_base_oversubscribe="1", OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1")
    r = subprocess.run(["mpiexec", "-n", "3", sys.executable, os.path.join(here, "parallel_empty_rank.py")],
                       capture_output=True, text=True, env=env, timeout=TIMEOUT)
    assert r.returncode != 0
    assert r.stderr.count("InputError: [mesh]: 1 of 3 ranks would be left without nodes") == 3, r.stderr[-3000:]
    assert "ok" not in r.stdout        # (an uncaught error ends with Firedrake's MPI_ABORT, after all three)
