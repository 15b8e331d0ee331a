"""N ops in one Dagster job, each running `sh -c true`, one after another, in process.

Run by benchmarks/peers.py in its own venv: python dagster_shell_ops.py N
"""

import subprocess
import sys

from dagster import In, Nothing, job, op


def shell_op(index: int):
    @op(name=f"shell_{index}", ins={"after": In(Nothing)} if index else None)
    def run_true() -> None:
        subprocess.run(["sh", "-c", "true"], check=True)

    return run_true


def build_job(n: int):
    ops = [shell_op(i) for i in range(n)]

    @job(name="shell_chain")
    def chain() -> None:
        previous = ops[0]()
        for each in ops[1:]:
            previous = each(after=previous)

    return chain


if __name__ == "__main__":
    result = build_job(int(sys.argv[1])).execute_in_process()
    sys.exit(0 if result.success else 1)
