"""PETSc options: command line > solver_parameters > defaults (issue: foundation, item 5)."""
import numpy as np
from petsc4py import PETSc

import firedrake as fd
from dgkinetic import Mixture, Species, VelocityGrid
from dgkinetic.phase_space import PhaseSpace
from dgkinetic.solver import KineticProblem, KineticSolver


def make_solver(params, prefix="dgk_"):
    mesh = fd.PeriodicIntervalMesh(4, 1.0)
    grid = VelocityGrid(2, 3, 2, extent=5.0)
    phase = PhaseSpace(mesh, Mixture([Species("a")], [grid]))
    f0 = phase.local_equilibrium([1.0], [np.zeros(2)], [1.0])
    return KineticSolver(KineticProblem(phase, f0), solver_parameters=params, options_prefix=prefix)


def test_command_line_overrides_code_parameters():
    opts = PETSc.Options()
    opts["dgk_ts_type"] = "ssp"
    try:
        solver = make_solver({"ts_type": "rk", "ts_rk_type": "4"})
        solver.solve(0.01, 0.005)
        assert solver.ts.getType() == "ssp"
    finally:
        del opts["dgk_ts_type"]


def test_code_parameters_override_defaults_and_are_removed_afterwards():
    solver = make_solver({"ts_type": "rk", "ts_rk_type": "4"})
    solver.solve(0.01, 0.005)
    assert solver.ts.getType() == "rk"
    assert solver.ts.getRKType() == "4"
    # inserted options do not leak into the global database
    assert not PETSc.Options().hasName("dgk_ts_rk_type")


def test_default_is_explicit_rk_without_collisions():
    solver = make_solver(None, prefix="other_")
    solver.solve(0.01, 0.005)
    assert solver.ts.getType() == "rk" and solver.kind == "explicit"
