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
	$(ACT) dgkinetic run demos/heat_transfer/heat_transfer.toml

test: setup
	$(ACT) python -m pytest -q $(PYTEST_ARGS)

test-slow: setup
	$(ACT) python -m pytest -q -m slow $(PYTEST_ARGS)

bench: setup
	$(ACT) for b in bench/bench_*.py; do echo "== $$b"; python $$b || exit 1; done

lint: setup
	$(ACT) ruff check dgkinetic tests demos bench

clean:
	rm -rf output .pytest_cache
