"""Run outputs: HDF5 diagnostics series, atomic checkpoints, VTK moments, PNG plots.

Files are written to a temporary name and renamed into place, so a run killed at any moment
leaves either the previous complete file or the new complete file, never half of one.
"""
from __future__ import annotations

import os

import numpy as np
from mpi4py import MPI

import firedrake as fd
from dgkinetic.errors import InputError
from dgkinetic.moments import number_density, temperature as species_temperature, mean_velocity
from dgkinetic.phase_space import PhaseSpace

__all__ = ["DiagnosticsSeries", "write_checkpoint", "read_checkpoint", "MomentFields", "atomic_path"]


def atomic_path(path: str) -> str:
    return path + ".part"


class DiagnosticsSeries:
    """Time series of named scalars kept in memory, flushed to HDF5 atomically (rank 0 writes)."""

    def __init__(self, path: str, comm=MPI.COMM_WORLD):
        self.path = path
        self.comm = comm
        self.columns: dict[str, list[float]] = {}

    def append(self, row: dict[str, float]) -> None:
        n = len(next(iter(self.columns.values()))) if self.columns else 0
        for k, v in row.items():
            self.columns.setdefault(k, [np.nan] * n).append(float(v))
        for k, col in self.columns.items():
            if len(col) < n + 1:
                col.append(np.nan)

    def load(self, until_time: float | None = None) -> None:
        """Read an existing series (restart), dropping rows after ``until_time``."""
        import h5py
        with h5py.File(self.path, "r") as h:
            cols = {k: list(np.asarray(h[k])) for k in h.keys()}
        if until_time is not None and "time" in cols:
            keep = int(np.sum(np.asarray(cols["time"]) <= until_time * (1 + 1e-14) + 1e-300))
            cols = {k: v[:keep] for k, v in cols.items()}
        self.columns = cols

    def flush(self, attrs: dict | None = None) -> None:
        if self.comm.rank == 0:
            import h5py
            tmp = atomic_path(self.path)
            with h5py.File(tmp, "w") as h:
                for k, v in self.columns.items():
                    h.create_dataset(k, data=np.asarray(v, dtype=float))
                for k, v in (attrs or {}).items():
                    h.attrs[k] = v
            os.replace(tmp, self.path)
        self.comm.Barrier()

    def array(self, key: str) -> np.ndarray:
        return np.asarray(self.columns[key])


def write_checkpoint(path: str, state: fd.Function, t: float, step: int, dt: float) -> None:
    """Save mesh, state and clock to ``path`` atomically (collective)."""
    tmp = atomic_path(path)
    comm = state.function_space().mesh().comm
    with fd.CheckpointFile(tmp, "w", comm=comm) as cf:
        cf.save_mesh(state.function_space().mesh())
        cf.save_function(state, name="f")
        cf.require_group("/dgkinetic")
        cf.set_attr("/dgkinetic", "time", float(t))
        cf.set_attr("/dgkinetic", "step", int(step))
        cf.set_attr("/dgkinetic", "dt", float(dt))
    comm.Barrier()
    if comm.rank == 0:
        os.replace(tmp, path)
    comm.Barrier()


def read_checkpoint(path: str, mesh_name: str, comm=MPI.COMM_WORLD):
    """(mesh, state, time, step, dt) from a checkpoint written by :func:`write_checkpoint`."""
    with fd.CheckpointFile(path, "r", comm=comm) as cf:
        mesh = cf.load_mesh(mesh_name)
        f = cf.load_function(mesh, "f")
        if not cf.has_attr("/dgkinetic", "time"):
            raise InputError(f"{path} is not a dgkinetic checkpoint")
        t = cf.get_attr("/dgkinetic", "time")
        step = cf.get_attr("/dgkinetic", "step")
        dt = cf.get_attr("/dgkinetic", "dt")
    return mesh, f, float(t), int(step), float(dt)


class MomentFields:
    """Per-species density, temperature and mean velocity as DG Functions (for VTK and plots)."""

    def __init__(self, phase: PhaseSpace):
        self.phase = phase
        V = phase.scalar_space
        self.fields = {}
        for s in phase.mixture.species:
            self.fields[f"density_{s.name}"] = fd.Function(V, name=f"density_{s.name}")
            self.fields[f"temperature_{s.name}"] = fd.Function(V, name=f"temperature_{s.name}")
            self.fields[f"velocity_x_{s.name}"] = fd.Function(V, name=f"velocity_x_{s.name}")

    def update(self, X: np.ndarray) -> dict:
        mix = self.phase.mixture
        for Xi, s, g in zip(mix.split(X), mix.species, mix.grids):
            self.fields[f"density_{s.name}"].dat.data[:] = number_density(Xi, g)
            self.fields[f"temperature_{s.name}"].dat.data[:] = species_temperature(Xi, g, s)
            self.fields[f"velocity_x_{s.name}"].dat.data[:] = mean_velocity(Xi, g)[:, 0]
        return self.fields
