"""Runs the fault suite (every phase, in turn, on one cluster) and prints its figures."""

from __future__ import annotations

import re
import time
from collections import Counter

from tests.chaos.cluster import running_cluster
from tests.chaos.load import Ledger, Load
from tests.chaos.phases import FAULTS, PhaseResult, Profile, run_phase, seed

CODES = ["OK", "FAILED_PRECONDITION", "UNAVAILABLE", "DEADLINE_EXCEEDED", "ABORTED"]
LEGEND = (
    "calls: every attempt, retries included, by status code; reserv.: reservations acknowledged;"
    " confirmed/rejected: the phase's orders; PENDING ans.: PlaceOrder answered PENDING;\n"
    "back in s: from the fault until every replica was SERVING again; decided +s: when the"
    " last order placed before then was decided, in seconds after it (negative: before)"
)
_STAMP = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d+ ")
SHOWN = 5  # problems listed per check
SHORT_NAMES = {"FAILED_PRECONDITION": "FAILED_PRE", "DEADLINE_EXCEEDED": "DEADLINE"}


async def run_suite(profile: Profile) -> tuple[list[PhaseResult], Ledger]:
    """Starts the cluster, seeds it, and runs every fault `profile.rounds` times."""
    ledger = Ledger()
    results: list[PhaseResult] = []
    async with running_cluster() as cluster:
        stock = cluster.stock_stubs()
        orders = cluster.orders_stubs()
        await seed(stock[0])
        targets = {
            "Reserve": [r.target for r in cluster.stock],
            "PlaceOrder": [r.target for r in cluster.orders],
        }
        load = Load(ledger, stock, orders, targets)
        for n in range(profile.rounds):
            for name, fault in FAULTS:
                label = name if profile.rounds == 1 else f"{name}-r{n + 1}"
                started = time.monotonic()
                result = await run_phase(cluster, load, ledger, label, fault, profile)
                result.findings.figures["seconds"] = time.monotonic() - started
                results.append(result)
                print(phase_report(result, ledger), flush=True)
    return results, ledger


def _by_code(ledger: Ledger, phase: str) -> Counter[str]:
    """The phase's attempts by status code, both methods together."""
    codes: Counter[str] = Counter()
    for name, n in ledger.codes[phase].items():
        code = name.partition(" ")[2]
        if not code.startswith("answered"):
            codes[code] += n
    return codes


def table(results: list[PhaseResult], ledger: Ledger) -> str:
    """One row per phase: calls by status code, what was acknowledged, and the checks."""
    known = [*CODES, "INTERNAL", "UNKNOWN"]
    head = ["phase", "calls", *(SHORT_NAMES.get(c, c) for c in known), "other", "reserv."]
    head += ["confirmed", "rejected", "PENDING ans.", "back in s", "decided +s", "checks"]
    rows = [head]
    for r in results:
        codes, f = _by_code(ledger, r.name), r.findings.figures
        decided = "never" if r.decided_after is None else f"{r.decided_after:.1f}"
        failed = len(r.findings.failed)
        rows.append(
            [
                r.name,
                str(codes.total()),
                *(str(codes[c]) for c in known),
                str(sum(n for c, n in codes.items() if c not in known)),
                *(str(f[k]) for k in ("reservations", "confirmed", "rejected")),
                str(ledger.codes[r.name]["PlaceOrder answered PENDING"]),
                f"{r.fault_seconds:.1f}",
                decided,
                f"{failed} FAILED" if failed else "ok",
            ]
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(head))]
    lines = ["  ".join(cell.rjust(w) for cell, w in zip(row, widths, strict=True)) for row in rows]
    return "\n".join([*lines, LEGEND])


def phase_report(result: PhaseResult, ledger: Ledger) -> str:
    """The phase's checks, a few answers of each non-OK code, and the replicas' ERROR logs."""
    lines = [f"== {result.name} ({result.findings.figures.get('seconds', 0):.0f} s)"]
    for name, problems in result.findings.problems.items():
        lines.append(f"  [{'FAIL' if problems else ' ok '}] {name}")
        lines += [f"         {p}" for p in problems[:SHOWN]]
        if len(problems) > SHOWN:
            lines.append(f"         ... and {len(problems) - SHOWN} more")
    for code, samples in sorted(ledger.samples[result.name].items()):
        lines.append(f"  {ledger.codes[result.name][code]} x {code}, e.g. {samples[0]}")
    for replica, errors in result.replica_errors.items():
        # Told apart by their last line (the exception); whole tracebacks when a check failed.
        distinct = {_STAMP.sub("", e.strip().rsplit("\n", 1)[-1]): e for e in errors}
        lines.append(f"  {replica}: {len(errors)} ERROR log records, {len(distinct)} distinct:")
        for last, record in list(distinct.items())[:3]:
            shown = record if result.findings.failed else f"{record.split(chr(10))[0]} ... {last}"
            lines.append("    " + shown.replace("\n", "\n    "))
    return "\n".join(lines)
