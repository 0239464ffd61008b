"""Files a run writes, each atomically: HDF5 results and diagnostics series, checkpoints, VTK moment fields.

Files are written to a temporary name and renamed into place, so a run killed at any moment
leaves either the previous complete file or the new complete file, never half of one.
"""
from __future__ import annotations

import os

import numpy as np
from mpi4py import MPI

import firedrake as fd
from dgkinetic.collective import agree
from dgkinetic.errors import InputError
from dgkinetic.moments import number_density, temperature as species_temperature, mean_velocity
from dgkinetic.phase_space import PhaseSpace

__all__ = ["write_arrays", "DiagnosticsSeries", "write_checkpoint", "read_checkpoint", "read_checkpoint_meta",
           "MomentFields", "atomic_path", "remove_files"]


def atomic_path(path: str) -> str:
    """The temporary name ``path`` is written under before it is renamed into place."""
    return path + ".part"


def _reason(e: BaseException) -> str:
    """One line describing an I/O error."""
    text = getattr(e, "strerror", None) or str(e) or type(e).__name__
    return text.splitlines()[0][:200] if text.strip() else type(e).__name__


def remove_files(paths, comm=MPI.COMM_WORLD) -> None:
    """Remove files (rank 0; missing ones are fine); a failure is raised on every rank."""
    with agree(comm):
        if comm.rank == 0:
            for p in paths:
                try:
                    os.remove(p)
                except FileNotFoundError:
                    pass
                except OSError as e:
                    raise InputError(f"cannot remove '{p}': {_reason(e)}") from None


def write_arrays(path: str, data: dict, attrs: dict | None = None) -> None:
    """Write the arrays of ``data`` as HDF5 datasets and ``attrs`` as attributes, atomically.

    Written by the calling process alone (a serial writer: in a parallel run call it on one rank).

    Parameters
    ----------
    path
        Destination file; written to :func:`atomic_path` first, then renamed into place.
    data
        Dataset name → value; only ``numpy.ndarray`` values are written (a result dict may be
        passed whole), and a name with ``/`` creates groups.
    attrs
        Attribute name → value; ``group/name`` is an attribute of that group (created if needed),
        a plain name one of the file.
    """
    import h5py
    tmp = atomic_path(path)
    with h5py.File(tmp, "w") as h:
        for key, value in data.items():
            if isinstance(value, np.ndarray):
                h.create_dataset(key, data=value)
        for key, value in (attrs or {}).items():
            group, _, name = key.rpartition("/")
            (h.require_group(group) if group else h).attrs[name] = value
    os.replace(tmp, path)


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
        """Read an existing series (restart), dropping rows after ``until_time``.

        Raises
        ------
        InputError
            The file is missing or not a readable diagnostics series.
        """
        import h5py
        if not os.path.isfile(self.path):
            raise InputError(f"--restart: no diagnostics series at {self.path} (the checkpoint's run left none)")
        try:
            with h5py.File(self.path, "r") as h:
                cols = {k: list(np.asarray(h[k], dtype=float)) for k in h.keys()}
        except Exception as e:                 # noqa: BLE001  (h5py raises assorted errors for a bad file)
            raise InputError(f"--restart: cannot read the diagnostics series {self.path}: {_reason(e)}") from None
        if len({len(v) for v in cols.values()}) > 1 or "time" not in cols:
            raise InputError(f"--restart: {self.path} is not a diagnostics series written by dgkinetic")
        if until_time is not None:
            keep = int(np.sum(np.asarray(cols["time"]) <= until_time * (1 + 1e-14) + 1e-300))
            cols = {k: v[:keep] for k, v in cols.items()}
        self.columns = cols

    def flush(self, attrs: dict | None = None) -> None:
        """Write the series to its file atomically (collective; a failure is raised on every rank)."""
        with agree(self.comm):
            if self.comm.rank == 0:
                try:
                    write_arrays(self.path, {k: np.asarray(v, dtype=float) for k, v in self.columns.items()},
                                 attrs)
                except OSError as e:
                    raise InputError(f"cannot write '{self.path}': {_reason(e)}") from None

    def array(self, key: str) -> np.ndarray:
        return np.asarray(self.columns[key])


def write_checkpoint(path: str, state: fd.Function, t: float, step: int, dt: float,
                     meta: dict | None = None) -> None:
    """Save mesh, state, clock and ``meta`` (string attributes) to ``path`` atomically (collective)."""
    tmp = atomic_path(path)
    comm = state.function_space().mesh().comm
    with fd.CheckpointFile(tmp, "w", comm=comm) as cf:
        cf.save_mesh(state.function_space().mesh())
        cf.save_function(state, name="f")
        cf.require_group("/dgkinetic")
        cf.set_attr("/dgkinetic", "time", float(t))
        cf.set_attr("/dgkinetic", "step", int(step))
        cf.set_attr("/dgkinetic", "dt", float(dt))
        for k, v in (meta or {}).items():
            cf.set_attr("/dgkinetic", k, str(v))
    comm.Barrier()
    with agree(comm):
        if comm.rank == 0:
            try:
                os.replace(tmp, path)
            except OSError as e:
                raise InputError(f"cannot write checkpoint '{path}': {_reason(e)}") from None


def read_checkpoint_meta(path: str) -> dict:
    """The ``/dgkinetic`` attributes of a checkpoint (time, step, dt and the run's descriptors).

    Read with plain h5py, before anything is built from the file. A checkpoint is trusted data:
    Firedrake's CheckpointFile unpickles attributes when it loads the mesh and state, so a
    checkpoint from an untrusted source must never be restarted.

    Raises
    ------
    InputError
        The file is not an HDF5 file or not a complete dgkinetic checkpoint.
    """
    import h5py
    try:
        with h5py.File(path, "r") as h:
            group = h.get("dgkinetic")
            if not isinstance(group, h5py.Group):
                raise InputError(f"--restart: {path} is not a dgkinetic checkpoint")
            attrs = {k: v.decode() if isinstance(v, bytes) else v for k, v in group.attrs.items()}
    except InputError:
        raise
    except Exception as e:                     # noqa: BLE001  (h5py raises assorted errors for a bad file)
        raise InputError(f"--restart: cannot read checkpoint {path}: {_reason(e)}") from None
    missing = [k for k in ("time", "step", "dt") if k not in attrs]
    if missing:
        raise InputError(f"--restart: checkpoint {path} is incomplete (no {', '.join(missing)})")
    return attrs


def read_checkpoint(path: str, mesh_name: str, comm=MPI.COMM_WORLD):
    """(mesh, state, time, step, dt) from a checkpoint written by :func:`write_checkpoint`."""
    attrs = read_checkpoint_meta(path)
    try:
        with fd.CheckpointFile(path, "r", comm=comm) as cf:
            mesh = cf.load_mesh(mesh_name)
            f = cf.load_function(mesh, "f")
    except Exception as e:                     # noqa: BLE001  (a damaged file fails anywhere inside)
        raise InputError(f"--restart: cannot read checkpoint {path}: {_reason(e)}") from None
    return mesh, f, float(attrs["time"]), int(attrs["step"]), float(attrs["dt"])


def write_vtk_fields(path: str, phase: PhaseSpace, fields: dict) -> None:
    """Write nodal fields on the phase space's space mesh as DG Functions to a VTK file (ParaView).

    Parameters
    ----------
    path
        The ``.pvd`` file.
    phase
        Its space mesh and DG space hold the fields.
    fields
        Name → owned nodal values: shape (n,) for a scalar, (n, c) for a vector of c components.
    """
    V = phase.scalar_space
    out = []
    for name, value in fields.items():
        value = np.asarray(value)
        space = V if value.ndim == 1 else fd.VectorFunctionSpace(phase.mesh, V.ufl_element(), dim=value.shape[1])
        f = fd.Function(space, name=name)
        f.dat.data_wo[...] = value
        out.append(f)
    fd.VTKFile(path, comm=phase.mesh.comm).write(*out)


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
