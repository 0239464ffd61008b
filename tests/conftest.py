"""Test configuration: PETSc must not read pytest's own command line as PETSc options."""
import sys

_argv, sys.argv = sys.argv, sys.argv[:1]
import firedrake  # noqa: E402,F401  (initialises PETSc with an empty command line)
sys.argv = _argv
