"""PNG figures: of a run (invariants, entropy, profiles, a velocity slice) and of a Knudsen sweep.

Figures are :class:`matplotlib.figure.Figure` objects made without pyplot: they never open a
window, need no display and leave matplotlib's global backend alone, and a figure is freed with
its last reference. Files are written to a temporary name and renamed into place.
"""
from __future__ import annotations

import os

import numpy as np

__all__ = ["subplots", "save_figure", "plot_run", "plot_series", "plot_profiles", "plot_velocity_slice",
           "plot_knudsen_sweep", "plot_profiles_by_knudsen"]


def subplots(nrows: int = 1, ncols: int = 1, **figure_kw):
    """A figure and its grid of axes, as ``matplotlib.pyplot.subplots`` but without pyplot.

    Parameters
    ----------
    nrows, ncols
        Shape of the grid of axes.
    **figure_kw
        Passed to :class:`matplotlib.figure.Figure` (``figsize``, ``dpi``, ...).

    Returns
    -------
    tuple
        (Figure, Axes or ndarray of Axes), squeezed as pyplot does.
    """
    from matplotlib.figure import Figure
    fig = Figure(**figure_kw)
    return fig, fig.subplots(nrows, ncols)


def save_figure(fig, path: str, dpi: int = 110) -> None:
    """Lay out ``fig`` and write it to ``path`` (format from its extension), atomically.

    Parameters
    ----------
    fig
        A :class:`matplotlib.figure.Figure`.
    path
        Destination file; ``root.part.ext`` is written first, then renamed to it.
    dpi
        Resolution in dots per inch.
    """
    root, ext = os.path.splitext(path)
    part = f"{root}.part{ext}"
    fig.tight_layout()
    fig.savefig(part, dpi=dpi)
    os.replace(part, path)


def plot_series(series, path: str, conserved, exchanged=(), title: str = "") -> None:
    """Drifts of the conserved quantities, totals the walls exchange, entropy and its budget vs time.

    Only quantities the problem conserves exactly (``conserved``, e.g.
    :meth:`~dgkinetic.transport.Transport.conserved_invariants`) are drawn as relative drifts;
    the ``exchanged`` ones (momentum and energy with diffuse walls) change physically and are
    drawn as their totals.
    """
    t = series.array("time")
    fig, ax = subplots(1, 4, figsize=(17, 3.8))
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
    save_figure(fig, path)


def plot_profiles(phase, X, path: str) -> None:
    """Density and temperature per species along x (1D) or against the first coordinate (2D)."""
    from dgkinetic.moments import number_density, temperature
    x = phase.node_coordinates[:, 0]
    order = np.argsort(x, kind="stable")
    fig, ax = subplots(1, 2, figsize=(10, 3.6))
    mix = phase.mixture
    for Xi, s, g in zip(mix.split(X), mix.species, mix.grids):
        ax[0].plot(x[order], number_density(Xi, g)[order], ".-" if phase.dim == 1 else ".", label=s.name)
        ax[1].plot(x[order], temperature(Xi, g, s)[order], ".-" if phase.dim == 1 else ".", label=s.name)
    ax[0].set_ylabel("number density")
    ax[1].set_ylabel("temperature")
    for a in ax:
        a.set_xlabel("x")
        a.legend(fontsize=7)
    save_figure(fig, path)


def plot_velocity_slice(grid, f_row, path: str, title: str = "") -> None:
    """Image of one species' distribution over (v_x, v_y) (3V: the central v_z plane)."""
    n1 = grid.n1
    F = f_row.reshape([n1] * grid.dim)
    if grid.dim == 3:
        F = F[:, :, n1 // 2]
    vx, vy = grid.nodes_1d[0], grid.nodes_1d[1]
    fig, ax = subplots(figsize=(4.4, 3.8))
    im = ax.pcolormesh(vx, vy, F.T, shading="nearest")
    fig.colorbar(im, ax=ax)
    ax.set_xlabel("v_x")
    ax.set_ylabel("v_y")
    ax.set_title(title, fontsize=9)
    save_figure(fig, path)


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


def plot_knudsen_sweep(ax, knudsen, ratio, what: str, label: str, curves=()) -> np.ndarray:
    """A quantity over its free-molecular value against Kn, with the exact free-molecular line.

    Parameters
    ----------
    ax
        The axes to draw on.
    knudsen, ratio
        Knudsen numbers and the computed ratios, shape (n,); Kn = ∞ is drawn as a star at the
        right end.
    what
        Name of the quantity (axis label).
    label
        Legend entry of the computed points (the model, e.g. ``"Boltzmann, hard disks"``).
    curves
        Theory curves, ``[(label, style, f(Kn), Kn_max)]``, each drawn for Kn < Kn_max.

    Returns
    -------
    ndarray
        The Kn grid the curves are drawn on.
    """
    kn = np.asarray(knudsen, dtype=float)
    ratio = np.asarray(ratio)
    fin = np.isfinite(kn)
    grid = np.geomspace(min(kn[fin].min(), 0.1) / 2, max(kn[fin].max(), 10) * 2, 100)
    ax.semilogx(kn[fin], ratio[fin], "o", label=label)
    if not fin.all():
        ax.semilogx(grid[-1], ratio[~fin][0], "*", ms=10, label="no collisions (Kn = ∞)")
    ax.axhline(1.0, color="k", lw=0.8, label="free-molecular (exact)")
    for curve_label, style, curve, kn_max in curves:
        sel = grid < kn_max
        ax.semilogx(grid[sel], curve(grid[sel]), style, label=curve_label)
    ax.set_xlabel("Kn = λ/L")
    ax.set_ylabel(f"{what} / {what}(free-molecular)")
    ax.legend(fontsize=7)
    return grid


def plot_profiles_by_knudsen(ax, x, knudsen, profiles, ylabel: str, reference) -> None:
    """One profile per Kn against x/L (Kn = ∞ labelled free-molecular) and a dotted reference line.

    Parameters
    ----------
    ax
        The axes to draw on.
    x
        Positions x/L, shape (m,).
    knudsen
        Knudsen numbers, shape (n,).
    profiles
        The profiles, shape (n, m).
    ylabel
        Axis label of the profiles.
    reference
        ``(label, [y(0), y(1)])``, e.g. the no-slip or no-jump continuum limit.
    """
    for k, y in zip(knudsen, profiles):
        ax.plot(x, y, ".-", ms=3, label="free-molecular" if not np.isfinite(k) else f"Kn = {k:g}")
    label, ends = reference
    ax.plot([0, 1], ends, "k:", lw=0.8, label=label)
    ax.set_xlabel("x / L")
    ax.set_ylabel(ylabel)
    ax.legend(fontsize=7)
