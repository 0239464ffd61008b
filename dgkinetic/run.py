"""Run a case: its solver to t_end (or its steady state) with diagnostics, checkpoints, VTK, plots and restart."""
from __future__ import annotations

import importlib.util
import json
import math
import os
import resource
import time

import numpy as np
from mpi4py import MPI
from petsc4py import PETSc

import firedrake as fd
from dgkinetic.build import (MESH_NAME, build_collisions, build_mesh, build_mixture, grid_descriptors,
                             initial_moments, mesh_length)
from dgkinetic.case import Case, estimate_memory, physics_differences
from dgkinetic.collective import agree, all_ranks_failed, is_collective, root_cause
from dgkinetic.diagnostics import Diagnostics
from dgkinetic.generic import GenericStructure, fisher_information
from dgkinetic.equilibrium import check_resolution
from dgkinetic.errors import InputError, NonPhysicalStateError
from dgkinetic.log import logger
from dgkinetic.mixture import Mixture
from dgkinetic.output import (DiagnosticsSeries, MomentFields, atomic_path, read_checkpoint, read_checkpoint_meta,
                              remove_files, write_checkpoint)
from dgkinetic.phase_space import PhaseSpace
from dgkinetic.solver import KineticProblem, KineticSolver
from dgkinetic.walls import make_wall

__all__ = ["CaseRun"]

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
        self.restart = restart
        if case.run["vtk_every"] and importlib.util.find_spec("vtkmodules") is None:
            raise InputError("[run] vtk_every needs the vtk package (pip install vtk), which Firedrake does not "
                             "install; set vtk_every = 0 or install it")
        self._vote_comm = comm.Dup()      # for the non-blocking "did every rank fail?" vote only
        mixture = build_mixture(case)
        self.t0, self.step0 = 0.0, 0
        if restart:
            mesh, f_ck, self.t0, self.step0, dt = self._read_checkpoint(mixture)
        else:
            mesh = build_mesh(case.mesh, comm)
        phase = PhaseSpace(mesh, mixture, degree=case.mesh["degree"])
        nodes = comm.allreduce(phase.n_owned, op=MPI.SUM)
        if case.mesh["kind"] == "file":
            estimate_memory(case, nodes)
        walls = {wid: make_wall(w) for wid, w in case.walls.items()}
        dens, vels, temps = initial_moments(case, mixture, mesh_length(case.mesh))
        x = phase.node_coordinates
        with agree(comm):       # checks of the owned nodes: an error on one rank reaches all
            self._check_resolution(mixture, walls, x, vels, temps)
        # (creating a Function's data is collective: never inside a block that may fail on one rank)
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
            with agree(comm):
                self.series.load(until_time=self.t0)
            names = mixture.invariant_names()
            if all(k in self.series.columns and self.series.columns[k] for k in names):
                self._reference = {k: self.series.columns[k][0] for k in names}
        self.solver = KineticSolver(self.problem, solver_parameters=case.solver,
                                    monitors=[self._monitor])
        # measured once the case is known to be valid: a refused case prints its error line only
        self.exchange_errors = _measure_resolution(collisions, temps, x)
        # the case's dt is part of the checkpointed physics (a changed dt is refused above); the
        # checkpoint's step is the one the interrupted run would have taken next (adaptive steppers)
        self.dt = dt if restart else case.run.get("dt")
        self._last_progress = 0.0
        self._start = None
        self.moments = MomentFields(phase)
        self.vtk = None
        self.structure = GenericStructure(phase, collisions=self.problem.collisions, transport=self.solver.transport)
        self._halo = phase.function("halo")
        self._fisher_floor = max([op.tail_floor for op, _ in self.problem.collisions], default=0.0)

    def _read_checkpoint(self, mixture: Mixture):
        """Mesh, state, time, step and dt of the run's checkpoint, refused unless it ran this case's physics
        on the same velocity grids."""
        path = self.checkpoint_path
        with agree(self.comm):
            if not os.path.isfile(path):
                raise InputError(f"--restart: no checkpoint at {path}")
            attrs = read_checkpoint_meta(path)
            if "fingerprint" not in attrs:
                raise InputError(f"--restart: {path} does not record the case that wrote it (an older dgkinetic); "
                                 "start afresh without --restart")
            if attrs["fingerprint"] != self.case.fingerprint():
                try:
                    changed = physics_differences(json.loads(attrs.get("physics", "{}")), self.case.physics())
                except ValueError:
                    changed = []
                raise InputError(f"--restart: the case differs from the run that wrote {path} in "
                                 f"{', '.join(changed[:4]) or 'its definition'}; restart with that case, or "
                                 "start afresh without --restart")
            if json.loads(attrs.get("grids", "[]")) != grid_descriptors(mixture):
                raise InputError(f"--restart: the velocity grids of {path} differ from the ones this case builds "
                                 f"({grid_descriptors(mixture)}); start afresh without --restart")
        return read_checkpoint(path, MESH_NAME, self.comm)

    def _checkpoint_meta(self) -> dict:
        """What defines the run, stored with every checkpoint and compared on restart."""
        return {"fingerprint": self.case.fingerprint(), "physics": json.dumps(self.case.physics(), sort_keys=True),
                "grids": json.dumps(grid_descriptors(self.phase.mixture)), "space_degree": str(self.phase.degree)}

    @staticmethod
    def _check_resolution(mixture, walls, x, vels, temps) -> None:
        """Every grid holds the initial state at the owned nodes and every wall's Maxwellian."""
        for i, (s, g) in enumerate(zip(mixture.species, mixture.grids)):
            Ts = temps[i](x) if callable(temps[i]) else np.array([temps[i]])
            for T in np.unique(np.ravel(Ts)):
                try:
                    check_resolution(g, s, vels[i], float(T))
                except InputError as e:
                    raise InputError(f"[initial] {e}") from None
        for wid, w in walls.items():
            if not hasattr(w, "temperature"):
                continue
            u = np.zeros(mixture.dim)
            u[:len(w.velocity)] = w.velocity
            for s, g in zip(mixture.species, mixture.grids):
                try:
                    check_resolution(g, s, u, float(w.temperature))
                except InputError as e:
                    raise InputError(f"[walls.{wid}] {e}") from None

    # ------------------------------------------------------------------ per step
    def _record(self, step: int, t: float, X: np.ndarray) -> None:
        row = {"time": t, "step": step}
        row.update(self.diagnostics.all(X))
        Xp = np.maximum(X, 1e-300)
        for op, rate in self.problem.collisions:
            row["dissipation"] = row.get("dissipation", 0.0) + rate * float(
                self.diagnostics.integrate(op.dissipation(Xp)))
        row.update(self.diagnostics.collisions_limited(self.problem.collisions, Xp))
        row["fisher_information"] = float(self.diagnostics.integrate(
            fisher_information(Xp, self.phase.mixture, self._fisher_floor)))
        # fluxes through each wall, of the state itself (the entropy needs it positive, below)
        size = self.phase.mixture.size
        if self.solver.transport is not None:
            self._halo.dat.data[:] = X
            Xh = self._halo.dat.data_ro_with_halos.reshape(-1, size)
            for key, value in self.solver.transport.wall_fluxes(Xh).items():
                row["flux_" + key] = self.comm.allreduce(value)
        # the entropy budget dS/dt = production + numerical dissipation + per-wall flux and dissipation
        self._halo.dat.data[:] = Xp
        Xh = self._halo.dat.data_ro_with_halos.reshape(-1, size)
        for key, rate in self.structure.entropy_rates(Xp, Xh).items():
            row["dSdt_" + key.replace(" ", "_")] = rate
        if self._reference is None:
            self._reference = {k: row[k] for k in self.phase.mixture.invariant_names()}
        for k, v0 in self._reference.items():
            row[f"drift_{k}"] = (row[k] - v0) / (abs(v0) if v0 != 0 else 1.0)
        self.series.append(row)

    def _limited_note(self) -> str:
        """For the closing line: the largest recorded ``collisions_limited_<index>`` of every operator
        whose mechanism dropped or limited some collision work ("" if none did)."""
        notes = []
        for index in range(len(self.problem.collisions)):
            column = np.asarray(self.series.columns.get(f"collisions_limited_{index}", []), dtype=float)
            peak = float(np.max(column[np.isfinite(column)], initial=0.0))
            if peak > 0:
                notes.append(f"collisions[{index}] up to {peak:.2g}")
        return "; collision work dropped or limited: " + ", ".join(notes) if notes else ""

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
        with agree(self.comm):
            self._check_physical(t, X)
        if step > 0 and (gstep % run["diagnostics_every"] == 0):
            self._record(gstep, t, X)
        if step > 0 and run["checkpoint_every"] and gstep % run["checkpoint_every"] == 0:
            # diagnostics first: a kill between the two leaves a series that reaches past the
            # checkpoint (cut back on restart), never one that stops short of it
            self.series.flush()
            with solver.state.dat.vec_wo as v:
                solver.ts.getSolution().copy(v)
            write_checkpoint(self.checkpoint_path, solver.state, t, gstep, solver.ts.getTimeStep(),
                             self._checkpoint_meta())
        if step > 0 and run["vtk_every"] and gstep % run["vtk_every"] == 0:
            self._write_vtk(t, X)
        now = time.perf_counter()
        if run["progress"] and (now - self._last_progress > 2.0 or t >= run["t_end"]):
            self._last_progress = now
            logger.info("t = %.5g / %.5g  step %d  dt %.3g  (%.1f s)", t, run["t_end"], gstep,
                        solver.ts.getTimeStep(), now - self._start)

    def _write_vtk(self, t, X):
        """Append the moments at t to moments.pvd (a restart continues the interrupted run's file)."""
        if self.vtk is None:
            self.vtk = fd.VTKFile(os.path.join(self.outdir, "moments.pvd"), comm=self.comm,
                                  mode="a" if self.restart else "w")
        self.vtk.write(*self.moments.update(X).values(), time=t)

    # ------------------------------------------------------------------ driving
    def _write_text(self, name: str, text: str) -> None:
        """Write a small text file into the output directory (rank 0; a failure reaches every rank)."""
        path = os.path.join(self.outdir, name)
        with agree(self.comm):
            if self.comm.rank == 0:
                try:
                    with open(path, "w") as fh:
                        fh.write(text)
                except OSError as e:
                    raise InputError(f"cannot write '{path}': {e.strerror}") from None

    def execute(self) -> dict:
        """Run the case to [run] t_end, writing diagnostics, checkpoints, VTK and plots.

        A fresh run first removes the checkpoint of an earlier run in the same directory (a fresh
        run killed before its first checkpoint must not restart the earlier one). When the run
        stops on an error raised on every rank (a non-physical state, a failed step, bad input met
        while running), the diagnostics recorded so far are written before the error propagates.

        Returns
        -------
        dict
            Steps, rejections, iterations, wall time, peak memory, final time.
        """
        with agree(self.comm):
            if self.comm.rank == 0:
                try:
                    os.makedirs(self.outdir, exist_ok=True)
                except OSError as e:
                    raise InputError(f"[run] output: cannot create '{self.outdir}': {e.strerror}") from None
        if self.case.run["steady"]:
            return self._execute_steady()
        if not self.restart:
            remove_files([self.checkpoint_path, atomic_path(self.checkpoint_path)], self.comm)
        run = self.case.run
        mem = self.comm.allreduce(self.phase.local_state_bytes(), op=MPI.SUM)
        logger.info("%s: %d space nodes x %d velocity nodes = %.3g MB per state vector",
                    run["name"], self.comm.allreduce(self.phase.n_owned, op=MPI.SUM),
                    self.phase.mixture.size, mem / 1e6)
        self._write_text("case.resolved.toml", self.case.to_toml())
        self._start = time.perf_counter()
        try:
            if self.step0 == 0:
                self._record(0, 0.0, self.solver.rows)
            if self.t0 < run["t_end"] * (1 - 1e-12):
                self.solver.solve(run["t_end"], self.dt, t0=self.t0)
        except Exception as e:
            cause = root_cause(e)
            # flushing is collective: only when every rank stopped (never block on a lone rank's error)
            if is_collective(cause) or is_collective(e) or all_ranks_failed(self._vote_comm):
                try:
                    self.series.flush(attrs={"case": self.case.to_toml(), "stopped": str(cause)[:500]})
                except InputError as flush_error:       # raised on every rank: report the first error
                    logger.debug("diagnostics not written: %s", flush_error)
            raise
        final_time = self.solver.time if self.t0 < run["t_end"] * (1 - 1e-12) else self.t0
        X = self.solver.rows
        self._write_text("petsc_options.txt", _petsc_options_text(self.solver))
        self.series.flush(attrs={"case": self.case.to_toml(), "exchange_rate_error": np.array(
            [np.nan if e is None else e for e in self.exchange_errors], dtype=float)})
        if run["checkpoint_every"]:
            write_checkpoint(self.checkpoint_path, self.solver.state, final_time,
                             self.step0 + self.solver.stats["steps"], self.solver.ts.getTimeStep(),
                             self._checkpoint_meta())
        if run["plot"]:
            from dgkinetic.plotting import plot_run
            with agree(self.comm):
                plot_run(self, X)
        summary = dict(self.solver.stats)
        summary["max_rss_MB"] = self.comm.allreduce(
            resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0, op=MPI.MAX)
        summary["final_time"] = final_time
        logger.info("done: %d steps (%d rejected), %d nonlinear / %d linear iterations, %.2f s, %.0f MB peak%s",
                    summary["steps"], summary["rejected"], summary["nonlinear_iterations"],
                    summary["linear_iterations"], summary["wall_time"], summary["max_rss_MB"],
                    self._limited_note())
        if not all(math.isfinite(v) for v in self.series.columns["entropy"]):
            raise NonPhysicalStateError("entropy became non-finite")
        if final_time < run["t_end"] * (1 - 1e-12):
            raise NonPhysicalStateError(f"the run stopped at t = {final_time:.6g} before t_end = "
                                        f"{run['t_end']:.6g}")
        return summary

    def _execute_steady(self) -> dict:
        """[run] steady = true: the steady state by :class:`~dgkinetic.steady.SteadySolver` (its SNES and
        KSP take the case's [solver] options), recorded as two diagnostics rows — the initial state
        (time 0) and the steady state (time 1; ``steady`` = 1 in the file's attributes) — then plotted."""
        from dgkinetic.steady import SteadySolver
        if self.restart:
            raise InputError("a steady run (steady = true) does not restart: run it again")
        run = self.case.run
        self._write_text("case.resolved.toml", self.case.to_toml())
        self._start = time.perf_counter()
        self._record(0, 0.0, self.solver.rows)
        options = {k: v for k, v in self.case.solver.items() if not k.startswith("ts_")}
        steady = SteadySolver(self.problem, solver_parameters=options)
        try:
            steady.solve()
        except Exception as e:
            self.series.flush(attrs={"case": self.case.to_toml(), "steady": 1, "stopped": str(root_cause(e))[:500]})
            raise
        self.solver.state.dat.data[:] = steady.state.dat.data_ro
        X = self.solver.rows
        self._record(1, 1.0, X)
        stats = dict(steady.stats)
        errors = np.array([np.nan if e is None else e for e in self.exchange_errors], dtype=float)
        self.series.flush(attrs={"case": self.case.to_toml(), "steady": 1,
                                 "newton_iterations": stats["newton_iterations"], "kinetic_sweeps": stats["sweeps"],
                                 "relative_residual": stats["residual"], "exchange_rate_error": errors})
        self._write_text("petsc_options.txt", "".join(f"-dgk_steady_{k} {v}\n" for k, v in
                                                       sorted(steady.parameters.items())))
        if run["plot"]:
            from dgkinetic.plotting import plot_run
            with agree(self.comm):
                plot_run(self, X)
        stats["max_rss_MB"] = self.comm.allreduce(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0,
                                                  op=MPI.MAX)
        logger.info("steady state: %d Newton steps, %d kinetic sweeps, residual %.1e of the initial, %.2f s, "
                    "%.0f MB peak%s",
                    stats["newton_iterations"], stats["sweeps"], stats["residual"], stats["wall_time"],
                    stats["max_rss_MB"], self._limited_note())
        return stats


def _measure_resolution(collisions, temps, x) -> list:
    """Exchange-rate error of each collision operator on its grids (:mod:`dgkinetic.resolution`),
    at the run's mean initial temperature of each species; warns above the tolerance."""
    from dgkinetic.resolution import EXCHANGE_TOLERANCE, exchange_rate_error
    T = [float(np.mean(t(x))) if callable(t) else float(t) for t in temps]
    errors = []
    for i, (op, _) in enumerate(collisions):
        err = exchange_rate_error(op, T)
        errors.append(err)
        if err is not None and err > EXCHANGE_TOLERANCE:
            logger.warning("collisions[%d]: the velocity grids resolve the momentum/energy exchange only to "
                           "%.1f %% (measured against the Maxwell-molecule closed form); refine the grid "
                           "(cells, degree) for trustworthy rates", i, 100 * err)
    return errors


def _petsc_options_text(solver) -> str:
    opts = PETSc.Options().getAll()
    lines = [f"# options in effect for prefix {solver.ts.getOptionsPrefix()}"]
    lines += [f"-{solver.ts.getOptionsPrefix()}{k} {v}" for k, v in sorted(solver.parameters.items())]
    # the solver's own options are all in solver.parameters (command line included): list the rest
    prefix = solver.ts.getOptionsPrefix().lower()
    lines += [f"-{k} {v}" for k, v in sorted(opts.items()) if not k.lower().startswith(prefix)]
    return "\n".join(lines) + "\n"
