"""The command line of a demo script: its parameters from a defaults dict, the rest for PETSc.

A demo is ``main(**overrides) -> dict`` with a ``DEFAULTS`` dict; run as a script through
:func:`run_demo`, every default can be changed as ``--name value``, and whatever argparse does
not know (``-dgk_ts_monitor`` …) is PETSc's command line. Demos write their results with
:func:`dgkinetic.output.write_arrays` and draw with :mod:`dgkinetic.plotting`; a homogeneous
relaxation runs with :func:`dgkinetic.homogeneous.run_homogeneous`.
"""
from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable

__all__ = ["parse_parameters", "run_demo", "output_dir"]


def parse_parameters(defaults: dict, description: str, argv: list[str] | None = None) -> tuple[dict, list[str]]:
    """Demo parameters from a command line, and the arguments left for PETSc.

    Parameters
    ----------
    defaults
        Parameter name → default value; its type (or the type of a list's first entry, for
        ``nargs="+"``) converts the command-line text. Booleans read 1/true/yes.
    description
        One line for ``--help``.
    argv
        The arguments (default ``sys.argv[1:]``, which is not changed).

    Returns
    -------
    tuple
        (parameters dict, the arguments argparse does not know, in order).
    """
    p = argparse.ArgumentParser(description=description)
    for key, value in defaults.items():
        kind = type(value)
        if isinstance(value, (list, tuple)):
            p.add_argument(f"--{key}", type=type(value[0]), nargs="+", default=list(value))
        elif kind is bool:
            p.add_argument(f"--{key}", type=lambda s: s.lower() in ("1", "true", "yes"), default=value)
        else:
            p.add_argument(f"--{key}", type=kind, default=value)
    args, rest = p.parse_known_args(sys.argv[1:] if argv is None else argv)
    return vars(args), rest


def run_demo(main: Callable[..., dict], defaults: dict, doc: str, argv: list[str] | None = None) -> dict:
    """Run a demo from its command line.

    Parses ``defaults`` from ``argv`` (default ``sys.argv[1:]``), starts PETSc with the remaining
    arguments (:func:`dgkinetic.cli.start_petsc`) and returns ``main(**parameters)``. Bad input (an
    :class:`~dgkinetic.errors.InputError`) ends the program with one line naming the demo.

    Parameters
    ----------
    main
        The demo's ``main(**parameters) -> dict``.
    defaults
        Its ``DEFAULTS``.
    doc
        Its docstring (the first line describes it in ``--help``).
    argv
        The command line without the program name.
    """
    from dgkinetic.cli import start_petsc
    from dgkinetic.errors import InputError
    parameters, petsc_args = parse_parameters(defaults, doc.splitlines()[0], argv)
    start_petsc(petsc_args)
    try:
        return main(**parameters)
    except InputError as err:
        sys.exit(f"{os.path.splitext(os.path.basename(sys.argv[0]))[0]}: {err}")


def output_dir(name: str, params: dict) -> str:
    """The output directory of a demo, created: ``params["output"]``, or ``output/<name>``."""
    out = params.get("output") or os.path.join("output", name)
    os.makedirs(out, exist_ok=True)
    return out
