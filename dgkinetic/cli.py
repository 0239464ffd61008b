"""Command line: ``dgkinetic run CASE.toml [-- PETSc options]``, ``dgkinetic check CASE.toml``.

Bad input ends with one line on stderr and exit status 2; a non-physical run with status 3. In a
parallel run every rank ends with the same status and the line is printed once.
"""
from __future__ import annotations

import argparse
import sys

__all__ = ["main", "start_petsc"]

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
    """Run the command line; returns the exit status (0 ok, 2 bad input, 3 stopped, 1 unexpected).

    Every rank of a parallel run returns the same status; the one-line report is printed once.
    """
    argv = list(sys.argv[1:] if argv is None else argv)
    petsc_args = []
    if "--" in argv:
        i = argv.index("--")
        argv, petsc_args = argv[:i], argv[i + 1:]
    args = _parser().parse_args(argv)
    from mpi4py import MPI
    from dgkinetic.errors import InputError
    comm = MPI.COMM_WORLD
    vote = comm.Dup()            # the "did every rank fail?" vote only, never another collective
    try:
        # before PETSc starts: it reads an -options_file while initialising
        _check_petsc_options(petsc_args)
    except InputError as e:
        return _report(e, comm, vote)
    start_petsc(petsc_args)
    try:
        from dgkinetic.case import load_case
        case = load_case(args.case)
        from dgkinetic.run import CaseRun
        if args.command == "check":
            CaseRun(case)
            if comm.rank == 0:
                print(f"{args.case}: ok")
            return 0
        CaseRun(case, restart=args.restart).execute()
        return 0
    except Exception as e:     # noqa: BLE001  (every error must end every rank, reported once)
        return _report(e, comm, vote)
    finally:
        vote.Free()


def start_petsc(petsc_args: list[str]) -> None:
    """Start PETSc with exactly ``petsc_args`` as its command line, then import Firedrake.

    PETSc reads its command line once, when it starts; Firedrake would start it with the whole
    ``sys.argv``, whose program arguments PETSc does not know (it reports them as unused
    options). Does nothing to a PETSc already running.

    Parameters
    ----------
    petsc_args
        PETSc options, e.g. ``["-dgk_ts_monitor", "-dgk_ts_type", "arkimex"]``.
    """
    import warnings

    import petsc4py.lib
    import petsctools
    if not petsc4py.lib.ImportPETSc().Sys.isInitialized():
        petsctools.init([sys.argv[0], *petsc_args])
    with warnings.catch_warnings():
        # Firedrake's own start finds PETSc running and says that sys.argv is ignored: intended
        warnings.filterwarnings("ignore", message="Calling petsctools.init but PETSc has already been initialised")
        import firedrake  # noqa: F401
    _set_kernel_compiler()


_COMPILER_SET = []


def _set_kernel_compiler() -> None:
    """Name PETSc's C compiler as PyOP2's default, once: without a default PyOP2 runs the compiler
    twice (``--version``) every time it loads a compiled kernel from its disk cache, 14 ms each, which
    was 0.2 s of a 0.7 s steady solve (bench/bench_flows.py at Kn = 1)."""
    if not _COMPILER_SET:
        import petsctools
        from pyop2 import compilation
        compilation.set_default_compiler(petsctools.get_petscvariables()["CC"])
        _COMPILER_SET.append(True)


def _report(error: BaseException, comm, vote) -> int:
    """Print the one-line report of ``error`` once and return the exit status (or abort the run).

    If every rank has failed (an error voted on by :func:`~dgkinetic.collective.agree`, or the same
    error everywhere), rank 0 prints and every rank returns the status. An error of one rank alone
    leaves the others blocked in a collective operation: that rank prints and aborts the run.
    Unexpected errors keep their traceback.
    """
    from dgkinetic.collective import RankError, all_ranks_failed, is_collective, root_cause
    cause = root_cause(error)
    status, line = _classify(error, cause)
    everyone = is_collective(cause) or is_collective(error) or all_ranks_failed(vote)
    if not everyone:
        if line is None:
            import traceback
            traceback.print_exception(error)
            line = f"dgkinetic: error on rank {comm.rank}: {type(cause).__name__}: {_one_line(cause)}"
        print(line, file=sys.stderr, flush=True)
        comm.Abort(status)
    if isinstance(cause, RankError):
        return 1                         # the rank that failed prints the traceback
    if line is None:
        if comm.rank == 0 or is_collective(cause):
            raise error
        return 1
    if comm.rank == 0:
        print(line, file=sys.stderr, flush=True)
    return status


def _classify(error: BaseException, cause: BaseException) -> tuple[int, str | None]:
    """Exit status and report line of an error (line None: unexpected, keep the traceback)."""
    from dgkinetic.errors import InputError, NonPhysicalStateError
    if isinstance(cause, InputError):
        return 2, f"dgkinetic: error: {_one_line(cause)}"
    if isinstance(cause, NonPhysicalStateError):
        return 3, f"dgkinetic: stopped: {_one_line(cause)}"
    if isinstance(cause, MemoryError):
        return 3, "dgkinetic: stopped: out of memory (use fewer cells, a lower degree or more ranks)"
    if "petsc4py.PETSc" in sys.modules:
        from petsc4py import PETSc
        if isinstance(error, PETSc.Error) and cause is error:
            return 3, (f"dgkinetic: stopped: PETSc error {error.ierr} during the solve (run with -dgk_ts_monitor "
                       "-dgk_snes_converged_reason to see where; a smaller dt often helps)")
    return 1, None


def _one_line(error: BaseException) -> str:
    return " ".join(str(error).split())[:2000]


def _check_petsc_options(args: list[str]) -> None:
    """Refuse command-line PETSc options that cannot reach this solver (wrong prefix) and options
    files (their contents would bypass these checks); called before PETSc reads any option."""
    from dgkinetic.errors import InputError
    allowed_global = {"-help", "-log_view", "-options_left", "-info", "-malloc_debug", "-log_trace",
                      "-on_error_abort", "-start_in_debugger"}
    for a in args:
        if a.startswith("-") and not _is_number(a):
            if "options_file" in a.lower():
                raise InputError(f"'{a}': dgkinetic takes PETSc options from the command line and the case's "
                                 "[solver] table only, not from options files")
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
