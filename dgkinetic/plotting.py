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


def plot_series(series, path: str, conserved, exchanged=(), title: str = "") -> None:
    """Drifts of the conserved quantities, totals the walls exchange, entropy and its budget vs time.

    Only quantities the problem conserves exactly (``conserved``, e.g.
    :meth:`~dgkinetic.transport.Transport.conserved_invariants`) are drawn as relative drifts;
    the ``exchanged`` ones (momentum and energy with diffuse walls) change physically and are
    drawn as their totals.
    """
    plt = _plt()
    t = series.array("time")
    fig, ax = plt.subplots(1, 4, figsize=(17, 3.8))
    for k in conserved:
        key = f"drift_{k}"
        if key in series.columns:
            ax[0].semilogy(t, np.abs(series.array(key)) + 1e-17, label=k.replace("_", " "))
    ax[0].set_ylabel("|relative drift|")
    ax[0].set_title("conserved exactly", fontsize=9)
    for k in exchanged:
        if k in series.columns:
            ax[1].plot(t, series.array(k), label=k.replace("_", " "))
    ax[1].set_ylabel("total (units of the case)")
    ax[1].set_title("exchanged with the walls", fontsize=9)
    ax[2].plot(t, series.array("entropy"))
    ax[2].set_ylabel("H = −S")
    ax[2].set_title("entropy (H-theorem: collisions only lower H)", fontsize=9)
    for key in sorted(k for k in series.columns if k.startswith("dSdt_")):
        ax[3].plot(t, series.array(key), label=key[5:].replace("_", " "))
    ax[3].set_ylabel("dS/dt by origin")
    ax[3].set_title("entropy budget (terms add up to dS/dt)", fontsize=9)
    for a in ax:
        a.set_xlabel("t (time units of the case)")
        if a.get_legend_handles_labels()[0]:
            a.legend(fontsize=7)
    if title:
        fig.suptitle(title)
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
    names = run.phase.mixture.invariant_names()
    transport = run.solver.transport
    conserved = names if transport is None else transport.conserved_invariants()
    if comm.rank == 0:
        plot_series(run.series, os.path.join(out, "invariants.png"), conserved,
                    [k for k in names if k not in conserved], title=run.case.run["name"])
    if comm.size == 1:
        plot_profiles(run.phase, X, os.path.join(out, "profiles.png"))
        mix = run.phase.mixture
        r = X.shape[0] // 2
        for Xi, s, g in zip(mix.split(X), mix.species, mix.grids):
            plot_velocity_slice(g, Xi[r], os.path.join(out, f"velocity_{s.name}.png"),
                                title=f"{s.name} at x = {np.round(run.phase.node_coordinates[r], 3).tolist()}")
