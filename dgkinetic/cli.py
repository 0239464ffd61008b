"""Command line: ``dgkinetic run CASE.toml [-- PETSc options]``, ``dgkinetic check CASE.toml``.

Bad input ends with one line on stderr and exit status 2; a non-physical run with status 3.
"""
from __future__ import annotations

import argparse
import sys

__all__ = ["main"]

EPILOG = """PETSc options go after '--' and use the prefix dgk_, e.g.
  dgkinetic run case.toml -- -dgk_ts_type arkimex -dgk_ts_monitor -dgk_snes_rtol 1e-8
  dgkinetic run case.toml -- -help      (lists every PETSc option in effect)
Case-file schema: README.md, section 'Case files'."""


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="dgkinetic", description="Multi-species kinetic equations on "
                                "Firedrake DG phase space (Boltzmann, Landau, walls).",
                                epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="command", required=True)
    r = sub.add_parser("run", help="run a case file", epilog=EPILOG,
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    r.add_argument("case", help="TOML case file")
    r.add_argument("--restart", action="store_true", help="continue from the run's last checkpoint")
    c = sub.add_parser("check", help="validate a case file (builds the mesh and grids, does not run)")
    c.add_argument("case", help="TOML case file")
    return p


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    petsc_args = []
    if "--" in argv:
        i = argv.index("--")
        argv, petsc_args = argv[:i], argv[i + 1:]
    args = _parser().parse_args(argv)
    # PETSc must see its options before anything initialises it.
    saved, sys.argv = sys.argv, [sys.argv[0]] + petsc_args
    import firedrake  # noqa: F401  (initialises PETSc with exactly these options)
    sys.argv = saved
    from petsc4py import PETSc
    from dgkinetic.errors import InputError, NonPhysicalStateError
    try:
        from dgkinetic.case import load_case
        case = load_case(args.case)
        _check_petsc_options(petsc_args)
        from dgkinetic.run import CaseRun
        if args.command == "check":
            CaseRun(case)
            print(f"{args.case}: ok")
            return 0
        CaseRun(case, restart=args.restart).execute()
        return 0
    except InputError as e:
        print(f"dgkinetic: error: {e}", file=sys.stderr)
        return 2
    except NonPhysicalStateError as e:
        print(f"dgkinetic: stopped: {e}", file=sys.stderr)
        return 3
    except PETSc.Error as e:
        # errors raised inside TS callbacks arrive wrapped in a PETSc error: report the cause
        cause = _root_cause(e)
        if isinstance(cause, InputError):
            print(f"dgkinetic: error: {cause}", file=sys.stderr)
            return 2
        if isinstance(cause, NonPhysicalStateError):
            print(f"dgkinetic: stopped: {cause}", file=sys.stderr)
            return 3
        if cause is not e:
            raise
        print(f"dgkinetic: stopped: PETSc error {e.ierr} during the solve (run with -dgk_ts_monitor "
              f"-dgk_snes_converged_reason to see where; a smaller dt often helps)", file=sys.stderr)
        return 3


def _root_cause(e: BaseException) -> BaseException:
    seen = set()
    while id(e) not in seen:
        seen.add(id(e))
        nxt = e.__cause__ or e.__context__
        if nxt is None:
            break
        e = nxt
    return e


def _check_petsc_options(args: list[str]) -> None:
    """Reject PETSc options that cannot reach this solver (wrong prefix) before running."""
    from dgkinetic.errors import InputError
    allowed_global = {"-help", "-log_view", "-options_left", "-info", "-malloc_debug", "-log_trace",
                      "-on_error_abort", "-start_in_debugger"}
    for a in args:
        if a.startswith("-") and not _is_number(a):
            if not (a.startswith("-dgk_") or a in allowed_global or a.startswith("-log_view")):
                raise InputError(f"unknown PETSc option '{a}': dgkinetic's options start with -dgk_ "
                                 f"(e.g. -dgk_ts_type); see 'dgkinetic run CASE -- -help'")


def _is_number(s: str) -> bool:
    try:
        float(s)
        return True
    except ValueError:
        return False


if __name__ == "__main__":
    sys.exit(main())
