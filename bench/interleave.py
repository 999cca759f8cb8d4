#!/usr/bin/env python3
"""Runs commands in turn, round after round, and prints each one's median wall time.

    python3 bench/interleave.py ROUNDS NAME='COMMAND' NAME='COMMAND' ...

hyperfine runs all of one command's runs before the next command's: on a machine whose speed
drifts within minutes, that drift lands on one command. Here every round runs each command
once, so a drift hits all of them alike. Ratios are to the last command (e.g. ruff).
"""
import shlex
import statistics
import subprocess
import sys
import time


def main() -> None:
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    rounds = int(sys.argv[1])
    cmds = [arg.split("=", 1) for arg in sys.argv[2:]]
    times: dict[str, list[float]] = {name: [] for name, _ in cmds}

    def run(cmd: str) -> float:
        start = time.perf_counter()
        done = subprocess.run(shlex.split(cmd), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        elapsed = time.perf_counter() - start
        # 0 clean, 1 findings (promptlint, ruff, gitleaks); anything else is a failed run whose
        # time means nothing.
        if done.returncode not in (0, 1):
            sys.exit(f"exit code {done.returncode}: {cmd}")
        return elapsed

    for _, cmd in cmds:  # warm-up
        run(cmd)
    for _ in range(rounds):
        for name, cmd in cmds:
            times[name].append(run(cmd))
    last = statistics.median(times[cmds[-1][0]])
    for name, _ in cmds:
        median = statistics.median(times[name])
        print(f"{name:12} median {median:.3f} s  min {min(times[name]):.3f} s  {median / last:.2f}x")


if __name__ == "__main__":
    main()
