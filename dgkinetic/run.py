"""Build the Python objects a case file describes and run it with outputs, progress and restart."""
from __future__ import annotations

import math
import os
import resource
import time

import numpy as np
from mpi4py import MPI
from petsc4py import PETSc

import firedrake as fd
from dgkinetic.case import Case
from dgkinetic.diagnostics import Diagnostics
from dgkinetic.generic import GenericStructure, fisher_information
from dgkinetic.equilibrium import check_resolution
from dgkinetic.errors import InputError, NonPhysicalStateError
from dgkinetic.log import logger
from dgkinetic.mixture import Mixture
from dgkinetic.output import DiagnosticsSeries, MomentFields, read_checkpoint, write_checkpoint
from dgkinetic.phase_space import PhaseSpace
from dgkinetic.solver import KineticProblem, KineticSolver
from dgkinetic.species import Species
from dgkinetic.velocity import VelocityGrid
from dgkinetic.walls import make_wall

__all__ = ["build_mesh", "build_mixture", "build_collisions", "CaseRun"]

MESH_NAME = "dgkinetic_space"


def build_mesh(spec: dict, comm=MPI.COMM_WORLD):
    """Firedrake mesh of a [mesh] table (boundary ids: 1 left, 2 right, 3 bottom, 4 top)."""
    kind = spec["kind"]
    kw = {"name": MESH_NAME, "comm": comm}
    if kind == "interval":
        n, L = spec["cells"], spec["length"]
        L = L[0] if isinstance(L, list) else L
        return fd.PeriodicIntervalMesh(n, L, **kw) if spec["periodic"] else fd.IntervalMesh(n, L, **kw)
    if kind == "rectangle":
        (nx, ny), (Lx, Ly) = spec["cells"], spec["length"]
        if spec["periodic"]:
            return fd.PeriodicRectangleMesh(nx, ny, Lx, Ly, quadrilateral=spec["quadrilateral"], **kw)
        return fd.RectangleMesh(nx, ny, Lx, Ly, quadrilateral=spec["quadrilateral"], **kw)
    try:
        mesh = fd.Mesh(spec["path"], **kw)
        mesh.init()
    except Exception as e:          # PETSc's reader raises assorted errors for a bad file
        raise InputError(f"[mesh] path: cannot read mesh '{spec['path']}': {str(e).splitlines()[0][:200]}") from None
    return mesh


def build_mixture(case: Case) -> Mixture:
    vel = case.velocity
    species = [Species(**s) for s in case.species]
    grids = [VelocityGrid(vel["dim"], vel["cells"], vel["degree"], extent=vel["extent"],
                          scale=s.thermal_speed(vel["reference_temperature"]),
                          continuous=vel["continuous"]) for s in species]
    return Mixture(species, grids)


def build_collisions(case: Case, mixture: Mixture) -> list:
    """(operator, rate) pairs of the [[collisions]] tables."""
    out = []
    for i, c in enumerate(case.collisions):
        if c["operator"] == "landau":
            from dgkinetic.collisions.landau import Landau
            nu = np.array(c["nu"], dtype=float) if isinstance(c["nu"], list) else c["nu"]
            coulomb = c["potential"] == "coulomb"
            op = Landau(mixture, potential=c["potential"], nu=None if coulomb else nu,
                        coulomb_log=c["coulomb_log"] if coulomb else None, tail_floor=c["tail_floor"])
        else:
            from dgkinetic.collisions.boltzmann import Boltzmann
            from dgkinetic.collisions import kernels
            makers = {"maxwell": kernels.MaxwellMolecules, "hard_spheres": kernels.HardSpheres,
                      "vhs": lambda: kernels.VariableHardSpheres(c["gamma"])}
            if c["kernel"] not in makers:
                raise InputError(f"[collisions[{i}]] kernel must be one of {sorted(makers)}, got {c['kernel']!r}")
            if c["form"] == "spectral":
                from dgkinetic.collisions.spectral import SpectralBoltzmann
                op = SpectralBoltzmann(mixture, makers[c["kernel"]](), modes=c["modes"] or None,
                                       radial_points=c["radial_points"], sphere_degree=c["sphere_points"] or 7)
                out.append((op, c["rate"]))
                continue
            if c["form"] == "collocation":
                from dgkinetic.collisions.collocation import CollocationBoltzmann as Boltzmann
            op = Boltzmann(mixture, makers[c["kernel"]](), sphere=c["sphere_points"] or None,
                           tail_floor=c["tail_floor"])
        out.append((op, c["rate"]))
    return out


def _initial_moments(case: Case, mixture: Mixture, length: float):
    init, N = case.initial, len(mixture)
    u = np.array(init["velocity"])
    dens, temp = list(init["density"]), list(init["temperature"])
    if init["profile"] == "uniform":
        return dens, [u] * N, temp
    if init["profile"] == "sine":
        a = init["amplitude"]
        if not 0 <= a < 1:
            raise InputError(f"[initial] amplitude must be in [0, 1) for profile = \"sine\", got {a}")
        dens_f = [lambda x, n=n: n * (1 + a * np.sin(2 * np.pi * x[:, 0] / length)) for n in dens]
        return dens_f, [u] * N, temp
    # Sod: left/right tables override density/temperature on each half
    left, right = init["left"] or {}, init["right"] or {}

    def side(key, i):
        def value(x):
            lval = left.get(key, None)
            rval = right.get(key, None)
            base = (dens if key == "density" else temp)[i]
            lv = base if lval is None else (lval[i] if isinstance(lval, list) else lval)
            rv = base if rval is None else (rval[i] if isinstance(rval, list) else rval)
            for name, v in (("left", lv), ("right", rv)):
                if not (isinstance(v, (int, float)) and v > 0):
                    raise InputError(f"[initial] {name}.{key} must be positive numbers, got {v!r}")
            return np.where(x[:, 0] < 0.5 * length, lv, rv)
        return value
    return ([side("density", i) for i in range(N)], [u] * N, [side("temperature", i) for i in range(N)])


class CaseRun:
    """A case assembled into a solver, with its outputs.

    Parameters
    ----------
    case
        The validated case.
    restart
        Continue from the run's last checkpoint.
    """

    def __init__(self, case: Case, restart: bool = False, comm=MPI.COMM_WORLD):
        self.case = case
        self.comm = comm
        self.outdir = case.run["output"]
        self.checkpoint_path = os.path.join(self.outdir, "checkpoint.h5")
        mixture = build_mixture(case)
        self.t0, self.step0 = 0.0, 0
        if restart:
            if not os.path.isfile(self.checkpoint_path):
                raise InputError(f"--restart: no checkpoint at {self.checkpoint_path}")
            mesh, f_ck, self.t0, self.step0, dt = read_checkpoint(self.checkpoint_path, MESH_NAME, comm)
        else:
            mesh = build_mesh(case.mesh, comm)
        phase = PhaseSpace(mesh, mixture, degree=case.mesh["degree"])
        walls = {wid: make_wall(w) for wid, w in case.walls.items()}
        length = case.mesh["length"][0] if isinstance(case.mesh["length"], list) else case.mesh["length"]
        dens, vels, temps = _initial_moments(case, mixture, length)
        # the grid must hold every initial and wall temperature
        wall_T = [w.temperature for w in walls.values() if hasattr(w, "temperature")]
        x = phase.node_coordinates
        for i, (s, g) in enumerate(zip(mixture.species, mixture.grids)):
            Ts = temps[i](x) if callable(temps[i]) else np.array([temps[i]])
            for T in np.unique(np.concatenate([np.ravel(Ts), wall_T])):
                check_resolution(g, s, vels[i], float(T))
        if restart:
            initial = phase.function("f")
            initial.dat.data[:] = f_ck.dat.data_ro
        else:
            initial = phase.local_equilibrium(dens, vels, temps)
        collisions = build_collisions(case, mixture)
        self.problem = KineticProblem(phase, initial, walls=walls, collisions=collisions,
                                      transport_speed=case.scaling["transport_speed"])
        self.phase = phase
        self.diagnostics = Diagnostics(phase)
        self.series = DiagnosticsSeries(os.path.join(self.outdir, "diagnostics.h5"), comm)
        self._reference = None
        if restart:
            self.series.load(until_time=self.t0)
            names = mixture.invariant_names()
            if all(k in self.series.columns for k in names):
                self._reference = {k: self.series.columns[k][0] for k in names}
        self.solver = KineticSolver(self.problem, solver_parameters=case.solver,
                                    monitors=[self._monitor])
        self.dt = dt if restart else case.run["dt"]
        self._last_progress = 0.0
        self._start = None
        self.moments = MomentFields(phase)
        self.vtk = None
        self.structure = GenericStructure(phase, collisions=self.problem.collisions, transport=self.solver.transport)
        self._halo = phase.function("halo")
        self._fisher_floor = max([getattr(op, "tail_floor", 0.0) for op, _ in self.problem.collisions], default=0.0)

    # ------------------------------------------------------------------ per step
    def _record(self, step: int, t: float, X: np.ndarray) -> None:
        row = {"time": t, "step": step}
        row.update(self.diagnostics.all(X))
        Xp = np.maximum(X, 1e-300)
        for op, rate in self.problem.collisions:
            row["dissipation"] = row.get("dissipation", 0.0) + rate * float(
                self.diagnostics.integrate(op.dissipation(Xp)))
        row["fisher_information"] = float(self.diagnostics.integrate(
            fisher_information(Xp, self.phase.mixture, self._fisher_floor)))
        # the entropy budget dS/dt = production + numerical dissipation + per-wall flux and dissipation
        self._halo.dat.data[:] = Xp
        Xh = self._halo.dat.data_ro_with_halos.reshape(-1, self.phase.mixture.size)
        for key, rate in self.structure.entropy_rates(Xp, Xh).items():
            row["dSdt_" + key.replace(" ", "_")] = rate
        if self._reference is None:
            self._reference = {k: row[k] for k in self.phase.mixture.invariant_names()}
        for k, v0 in self._reference.items():
            row[f"drift_{k}"] = (row[k] - v0) / (abs(v0) if v0 != 0 else 1.0)
        self.series.append(row)

    def _check_physical(self, t: float, X: np.ndarray) -> None:
        mix = self.phase.mixture
        for Xi, s, g in zip(mix.split(X), mix.species, mix.grids):
            n = Xi @ g.weights
            bad = ~np.isfinite(n) | (n <= 0)
            if bad.any():
                r = int(np.flatnonzero(bad)[0])
                xr = self.phase.node_coordinates[r]
                raise NonPhysicalStateError(f"non-physical state at t={t:.6g}: species '{s.name}' has density "
                                            f"{n[r]:.3g} at x={np.round(xr, 6).tolist()}")

    def _monitor(self, solver, step, t, X):
        run = self.case.run
        gstep = self.step0 + step
        self._check_physical(t, X)
        if step > 0 and (gstep % run["diagnostics_every"] == 0):
            self._record(gstep, t, X)
        if step > 0 and run["checkpoint_every"] and gstep % run["checkpoint_every"] == 0:
            # diagnostics first: a kill between the two leaves a series that reaches past the
            # checkpoint (cut back on restart), never one that stops short of it
            self.series.flush()
            with solver.state.dat.vec_wo as v:
                solver.ts.getSolution().copy(v)
            write_checkpoint(self.checkpoint_path, solver.state, t, gstep, solver.ts.getTimeStep())
        if step > 0 and run["vtk_every"] and gstep % run["vtk_every"] == 0:
            self._write_vtk(t, X)
        now = time.perf_counter()
        if run["progress"] and (now - self._last_progress > 2.0 or t >= run["t_end"]):
            self._last_progress = now
            logger.info("t = %.5g / %.5g  step %d  dt %.3g  (%.1f s)", t, run["t_end"], gstep,
                        solver.ts.getTimeStep(), now - self._start)

    def _write_vtk(self, t, X):
        if self.vtk is None:
            self.vtk = fd.VTKFile(os.path.join(self.outdir, "moments.pvd"), comm=self.comm)
        self.vtk.write(*self.moments.update(X).values(), time=t)

    # ------------------------------------------------------------------ driving
    def execute(self) -> dict:
        os.makedirs(self.outdir, exist_ok=True)
        run = self.case.run
        mem = self.comm.allreduce(self.phase.local_state_bytes(), op=MPI.SUM)
        logger.info("%s: %d space nodes x %d velocity nodes = %.3g MB per state vector",
                    run["name"], self.comm.allreduce(self.phase.n_owned, op=MPI.SUM),
                    self.phase.mixture.size, mem / 1e6)
        if self.comm.rank == 0:
            with open(os.path.join(self.outdir, "case.resolved.toml"), "w") as fh:
                fh.write(self.case.to_toml())
        self._start = time.perf_counter()
        if self.step0 == 0:
            self._record(0, 0.0, self.solver.rows)
        if self.t0 < run["t_end"] * (1 - 1e-12):
            self.solver.solve(run["t_end"], self.dt, t0=self.t0)
        X = self.solver.rows
        if self.comm.rank == 0:
            with open(os.path.join(self.outdir, "petsc_options.txt"), "w") as fh:
                fh.write(_petsc_options_text(self.solver))
        self.series.flush(attrs={"case": self.case.to_toml()})
        if run["checkpoint_every"]:
            write_checkpoint(self.checkpoint_path, self.solver.state, self.solver.time,
                             self.step0 + self.solver.stats["steps"], self.solver.ts.getTimeStep())
        if run["plot"]:
            from dgkinetic.plotting import plot_run
            plot_run(self, X)
        summary = dict(self.solver.stats)
        summary["max_rss_MB"] = self.comm.allreduce(
            resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0, op=MPI.MAX)
        summary["final_time"] = self.solver.time
        logger.info("done: %d steps (%d rejected), %d nonlinear / %d linear iterations, %.2f s, %.0f MB peak",
                    summary["steps"], summary["rejected"], summary["nonlinear_iterations"],
                    summary["linear_iterations"], summary["wall_time"], summary["max_rss_MB"])
        if not all(math.isfinite(v) for v in self.series.columns["entropy"]):
            raise NonPhysicalStateError("entropy became non-finite")
        return summary


def _petsc_options_text(solver) -> str:
    opts = PETSc.Options().getAll()
    lines = [f"# options in effect for prefix {solver.ts.getOptionsPrefix()}"]
    lines += [f"-{solver.ts.getOptionsPrefix()}{k} {v}" for k, v in sorted(solver.parameters.items())]
    lines += [f"-{k} {v}" for k, v in sorted(opts.items())]
    return "\n".join(lines) + "\n"
