"""What the benchmarks share: running one case of a benchmark script in a fresh process (or under mpiexec).

A script that supports ``--case <text>`` runs that case in its own process and prints one line
``RESULT <json>`` (rank 0); :func:`run_case` starts it and returns the decoded result, so that every
case is timed from a cold start of its own (set-up, kernel loading) and no case inherits another's caches.
"""
import json
import os
import subprocess
import sys


def run_case(script: str, case: str, ranks: int = 1) -> dict:
    """Run ``python script --case case`` (under ``mpiexec -n ranks`` if ranks > 1); its RESULT as a dict."""
    cmd = [sys.executable, os.path.abspath(script), "--case", case]
    if ranks > 1:
        cmd = ["mpiexec", "-n", str(ranks)] + cmd
    env = dict(os.environ, OMPI_MCA_rmaps_base_oversubscribe="1")
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env)
    line = next((t for t in proc.stdout.splitlines() if t.startswith("RESULT ")), None)
    if proc.returncode != 0 or line is None:
        raise RuntimeError(f"the case {case} on {ranks} rank(s) failed: {proc.stderr.strip().splitlines()[-1:]}")
    return json.loads(line[len("RESULT "):])
