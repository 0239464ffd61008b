"""Test configuration: PETSc must not read pytest's own command line as PETSc options."""
import os

# Small dense solves thrash when OpenBLAS threads compete with MPI ranks and each other on 2 cores.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")

from dgkinetic.cli import start_petsc  # noqa: E402

start_petsc([])                        # PETSc (and Firedrake) with an empty command line
