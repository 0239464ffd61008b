"""A small 1D2V two-species run with walls; prints its diagnostics as JSON (rank 0).

Run by tests/test_parallel.py under ``mpiexec -n 1`` and ``-n 2``.
"""
import json
import sys

import numpy as np

import firedrake as fd
from dgkinetic import Mixture, Species, VelocityGrid
from dgkinetic.diagnostics import Diagnostics
from dgkinetic.phase_space import PhaseSpace
from dgkinetic.solver import KineticProblem, KineticSolver
from dgkinetic.walls import Diffuse, Specular

mesh = fd.IntervalMesh(24, 1.0)
species = [Species("a", mass=1.0), Species("b", mass=3.0)]
mix = Mixture(species, [VelocityGrid(2, 4, 2, extent=5.0, scale=s.thermal_speed(1.0)) for s in species])
phase = PhaseSpace(mesh, mix, degree=1)
f0 = phase.local_equilibrium([lambda x: 1 + 0.5 * np.sin(3 * x[:, 0]), 0.7],
                             [np.zeros(2), np.zeros(2)], [1.0, lambda x: 1 + 0.2 * x[:, 0]])
diag = Diagnostics(phase)
solver = KineticSolver(KineticProblem(phase, f0, walls={1: Specular(), 2: Diffuse(temperature=1.5)}),
                       solver_parameters={"ts_type": "rk", "ts_adapt_type": "none"})
solver.solve(0.2, 0.002)
out = diag.all(solver.rows)
if mesh.comm.rank == 0:
    json.dump(out, sys.stdout)
