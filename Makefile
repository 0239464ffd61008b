# dgkinetic — newcomer entry points (see README.md).
#   make demo   set everything up, then run the main demo (plot + HDF5 diagnostics in output/)
#   make test   set everything up, then run the test suite (what CI runs)
SHELL := /bin/bash
VENV := .venv
ACT := source $(VENV)/bin/activate && export OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_rmaps_base_oversubscribe=1 &&
PYTEST_ARGS ?=

.PHONY: setup demo test test-parallel test-slow bench lint clean
setup:
	scripts/setup.sh

demo: setup
	$(ACT) mpiexec -n 2 python demos/thermal_diffusion/thermal_diffusion.py

# mpi-pytest tests marked parallel([1, 2]): the 1-rank variants run with the others, the 2-rank ones here
MPI_TESTS := mpiexec -n 2 python -m pytest -q -m "parallel[2]" $(PYTEST_ARGS)

test: setup
	$(ACT) python -m pytest -q $(PYTEST_ARGS)
	$(ACT) $(MPI_TESTS)

# everything that runs on several ranks: the subprocess comparisons and error paths, then mpi-pytest
test-parallel: setup
	$(ACT) python -m pytest -q tests/test_parallel.py tests/test_parallel_errors.py $(PYTEST_ARGS)
	$(ACT) $(MPI_TESTS)

test-slow: setup
	$(ACT) python -m pytest -q -m slow $(PYTEST_ARGS)

bench: setup
	$(ACT) for b in bench/bench_*.py; do echo "== $$b"; python $$b || exit 1; done

lint: setup
	$(ACT) ruff check dgkinetic tests demos bench

clean:
	rm -rf output .pytest_cache
