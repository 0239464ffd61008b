"""Test configuration: PETSc must not read pytest's own command line as PETSc options."""
import os
import sys

# Small dense solves thrash when OpenBLAS threads compete with MPI ranks and each other on 2 cores.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")

_argv, sys.argv = sys.argv, sys.argv[:1]
import firedrake  # noqa: E402,F401  (initialises PETSc with an empty command line)
sys.argv = _argv
