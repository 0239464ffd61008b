"""Python API on more ranks than a 2-cell mesh has cells: every rank must raise the same InputError
(run by tests/test_parallel_errors.py under mpiexec -n 3)."""
import numpy as np
import firedrake as fd
from dgkinetic import Species, VelocityGrid, Mixture, PhaseSpace, KineticProblem, KineticSolver, Specular, Landau
s = Species("a")
mix = Mixture([s], [VelocityGrid(2, 4, 2, extent=5.0, continuous=True)])
phase = PhaseSpace(fd.IntervalMesh(2, 1.0), mix, degree=0)
f0 = phase.local_equilibrium([lambda x: 1 + 0.2 * x[:, 0]], [np.zeros(2)], [1.0])
solver = KineticSolver(KineticProblem(phase, f0, walls={1: Specular(), 2: Specular()},
                                      collisions=[(Landau(mix), 1.0)]),
                       solver_parameters={"ts_adapt_type": "none"})
solver.solve(0.02, 0.01)
print(phase.mesh.comm.rank, phase.n_owned, "ok", flush=True)
