"""`make chaos` (`python -m tests.chaos`): the fault suite's longer form; figures per phase.

Options lengthen or shorten it (`--rounds`, `--workers`, `--after` ...); exit status 1 when a
check fails. OMNI_CHAOS_KEEP_LOGS=<dir> keeps the replicas', PostgreSQL's and NATS's logs.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import sys
import time

from tests.chaos.phases import LONG, Profile
from tests.chaos.suite import run_suite, table


def profile_from_args() -> Profile:
    parser = argparse.ArgumentParser(prog="make chaos", description=__doc__)
    for f in dataclasses.fields(Profile):
        default = getattr(LONG, f.name)
        parser.add_argument(
            f"--{f.name.replace('_', '-')}", type=type(default), default=default, metavar="N"
        )
    return Profile(**vars(parser.parse_args()))


async def main() -> int:
    profile = profile_from_args()
    print(f"fault suite: {profile}", flush=True)
    started = time.monotonic()
    results, ledger = await run_suite(profile)
    print(f"\n{table(results, ledger)}\n\n{time.monotonic() - started:.0f} s in all")
    failed = [(r.name, check) for r in results for check in r.findings.failed]
    for phase, check in failed:
        print(f"FAILED in {phase}: {check}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
