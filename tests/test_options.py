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


def test_parameters_are_what_petsc_runs_with():
    """solver.parameters holds each option once, with the value PETSc uses: the command line over
    solver_parameters over the defaults (an overridden default is not kept beside its override)."""
    opts = PETSc.Options()
    opts["dgk_ts_rk_type"] = "5dp"
    opts["dgk_TS_ADAPT_TYPE"] = "none"          # PETSc option names are case-insensitive
    try:
        solver = make_solver({"ts_rk_type": "4", "ts_max_reject": 7})
        solver.solve(0.01, 0.005)
        p = solver.parameters
        assert p["ts_rk_type"] == "5dp" == solver.ts.getRKType()
        assert p["ts_adapt_type"] == "none"
        assert p["ts_max_reject"] == 7 and p["ts_type"] == "rk" == solver.ts.getType()
        assert p["ts_exact_final_time"] == "matchstep"            # a default nobody overrode
        assert "ts_adapt_dt_max" not in p                         # fixed steps: no stability cap applied
    finally:
        del opts["dgk_ts_rk_type"]
        del opts["dgk_TS_ADAPT_TYPE"]


def test_adaptive_step_cap_is_reported_in_parameters():
    solver = make_solver(None)
    solver.solve(0.01, 0.005)
    assert 0 < solver.parameters["ts_adapt_dt_max"] == solver.stable_step()
