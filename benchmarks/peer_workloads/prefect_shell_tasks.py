"""N Prefect tasks in one flow, each running `sh -c true`, one after another.

Run by benchmarks/peers.py in its own venv (PREFECT_HOME set to a temporary folder, so the
ephemeral API and its SQLite database start fresh): python prefect_shell_tasks.py N
"""

import subprocess
import sys

from prefect import flow, task


@task
def run_true() -> None:
    subprocess.run(["sh", "-c", "true"], check=True)


@flow(name="shell-chain")
def chain(n: int) -> None:
    for _ in range(n):
        run_true()


if __name__ == "__main__":
    chain(int(sys.argv[1]))
