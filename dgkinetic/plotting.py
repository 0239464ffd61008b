"""PNG plots of a run: invariants and entropy vs time, moment profiles, a velocity slice."""
from __future__ import annotations

import os

import numpy as np

__all__ = ["plot_run", "plot_series", "plot_profiles", "plot_velocity_slice"]


def _plt():
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    return plt


def plot_series(series, path: str, names) -> None:
    """Invariant drifts, entropy and the entropy budget vs time."""
    plt = _plt()
    t = series.array("time")
    fig, ax = plt.subplots(1, 3, figsize=(14, 3.6))
    for k in names:
        key = f"drift_{k}"
        if key in series.columns:
            ax[0].semilogy(t, np.abs(series.array(key)) + 1e-17, label=k)
    ax[0].set_xlabel("t")
    ax[0].set_ylabel("|relative drift|")
    ax[0].legend(fontsize=7)
    ax[1].plot(t, series.array("entropy"))
    ax[1].set_xlabel("t")
    ax[1].set_ylabel("H = -S")
    for key in sorted(k for k in series.columns if k.startswith("dSdt_")):
        ax[2].plot(t, series.array(key), label=key[5:].replace("_", " "))
    ax[2].set_xlabel("t")
    ax[2].set_ylabel("dS/dt by origin")
    ax[2].legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def plot_profiles(phase, X, path: str) -> None:
    """Density and temperature per species along x (1D) or against the first coordinate (2D)."""
    from dgkinetic.moments import number_density, temperature
    plt = _plt()
    x = phase.node_coordinates[:, 0]
    order = np.argsort(x, kind="stable")
    fig, ax = plt.subplots(1, 2, figsize=(10, 3.6))
    mix = phase.mixture
    for Xi, s, g in zip(mix.split(X), mix.species, mix.grids):
        ax[0].plot(x[order], number_density(Xi, g)[order], ".-" if phase.dim == 1 else ".", label=s.name)
        ax[1].plot(x[order], temperature(Xi, g, s)[order], ".-" if phase.dim == 1 else ".", label=s.name)
    ax[0].set_ylabel("number density")
    ax[1].set_ylabel("temperature")
    for a in ax:
        a.set_xlabel("x")
        a.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def plot_velocity_slice(grid, f_row, path: str, title: str = "") -> None:
    """Image of one species' distribution over (v_x, v_y) (3V: the central v_z plane)."""
    plt = _plt()
    n1 = grid.n1
    F = f_row.reshape([n1] * grid.dim)
    if grid.dim == 3:
        F = F[:, :, n1 // 2]
    vx, vy = grid.nodes_1d[0], grid.nodes_1d[1]
    fig, ax = plt.subplots(figsize=(4.4, 3.8))
    im = ax.pcolormesh(vx, vy, F.T, shading="nearest")
    fig.colorbar(im, ax=ax)
    ax.set_xlabel("v_x")
    ax.set_ylabel("v_y")
    ax.set_title(title, fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def plot_run(run, X) -> None:
    """All plots of a finished run into its output directory (rank 0 of a serial gather)."""
    out = run.outdir
    comm = run.comm
    if comm.rank == 0:
        plot_series(run.series, os.path.join(out, "invariants.png"), run.phase.mixture.invariant_names())
    if comm.size == 1:
        plot_profiles(run.phase, X, os.path.join(out, "profiles.png"))
        mix = run.phase.mixture
        r = X.shape[0] // 2
        for Xi, s, g in zip(mix.split(X), mix.species, mix.grids):
            plot_velocity_slice(g, Xi[r], os.path.join(out, f"velocity_{s.name}.png"),
                                title=f"{s.name} at x = {np.round(run.phase.node_coordinates[r], 3).tolist()}")
