"""The figures `make load` prints: errors inside and outside the restart windows, latency per
route, resident memory at start and end, and the accounting of jobs, bookings and texts."""
from __future__ import annotations

import argparse
import collections
from typing import Any

from bench.load import percentile
from bench.soak_traffic import PROVISION_ATTEMPTS, Sample, Traffic

# After a dependency is back, callers were told to retry after this long (Retry-After).
RECOVERY_GRACE_S = 5.0


def window_of(sample: Sample, windows: list[tuple[str, float, float]]) -> str | None:
    """The restart window a request overlapped (from the stop until RECOVERY_GRACE_S after the
    start), or None."""
    ended = sample.at + sample.ms / 1000
    for name, down, up in windows:
        if sample.at < up + RECOVERY_GRACE_S and ended >= down:
            return name
    return None


def _ms(values: list[float], fraction: float) -> str:
    return f"{percentile(values, fraction):.0f}" if values else "-"


def route_table(samples: list[Sample], windows: list[tuple[str, float, float]]) -> None:
    by_route: dict[str, list[Sample]] = collections.defaultdict(list)
    for sample in samples:
        by_route[sample.route].append(sample)
    header = (f"{'route':<44} {'requests':>8} {'err out':>7} {'503 in':>6} {'other in':>8} "
              f"{'p50':>6} {'p95':>6} {'p99':>6} {'p99 out':>7}")
    print(header)
    print("-" * len(header))
    for route in sorted(by_route, key=lambda r: -len(by_route[r])):
        rows = by_route[route]
        inside = [s for s in rows if window_of(s, windows)]
        outside = [s for s in rows if not window_of(s, windows)]
        ok = [s.ms for s in rows if s.ok()]
        ok_outside = [s.ms for s in outside if s.ok()]
        print(f"{route:<44} {len(rows):>8} {sum(not s.ok() for s in outside):>7} "
              f"{sum(s.status == 503 for s in inside):>6} "
              f"{sum(not s.ok() and s.status != 503 for s in inside):>8} "
              f"{_ms(ok, 0.5):>6} {_ms(ok, 0.95):>6} {_ms(ok, 0.99):>6} "
              f"{_ms(ok_outside, 0.99):>7}")
    print("err out: failed requests outside the restart windows; 503 in / other in: failed "
          "requests overlapping a window (from the stop until "
          f"{RECOVERY_GRACE_S:.0f} s after the restart), as 503 or otherwise; latencies in ms "
          "over the requests answered with success (p99 out: outside the windows)")


def windows_summary(samples: list[Sample], windows: list[tuple[str, float, float]]) -> None:
    for name, down, up in windows:
        failed = [s for s in samples if not s.ok() and window_of(s, [(name, down, up)])]
        # Webhook answers come from the call simulator's transcript, without their content type.
        problems = sum(1 for s in failed if s.status == 503 and s.problem)
        statuses = collections.Counter(s.status for s in failed)
        last = max((s.at + s.ms / 1000 for s in failed), default=None)
        after = f"{last - up:+.1f} s" if last is not None else "-"
        print(f"{name}: down from {down:.1f} s to {up:.1f} s ({up - down:.1f} s); "
              f"{len(failed)} failed requests overlapping it ({problems} of them 503 problems; "
              f"statuses {dict(statuses)}); the last failure ended {after} after the restart")


def memory_table(start: dict[str, dict[str, Any]], end: dict[str, dict[str, Any]]) -> None:
    print(f"{'process':<8} {'count':>5} {'RSS start MiB':>14} {'RSS end MiB':>12} {'growth':>7}"
          "   each process (pid: start -> end MiB)")
    for name in start:
        before, after = start[name], end[name]
        growth = (after["total"] / before["total"] - 1) * 100 if before["total"] else 0.0
        pids = sorted(set(before["pids"]) | set(after["pids"]))
        each = ", ".join(f"{pid}: {before['pids'].get(pid, 0):.0f}->{after['pids'].get(pid, 0):.0f}"
                         for pid in pids)
        print(f"{name:<8} {len(after['pids']):>5} {before['total']:>14.1f} "
              f"{after['total']:>12.1f} {growth:>+6.1f}%   {each}")


def print_report(*, options: argparse.Namespace, traffic: Traffic,
                 windows: list[tuple[str, float, float]], load_seconds: float,
                 drained_in: float, left: tuple[int, int], memory_start: dict,
                 memory_end: dict, accounting: dict[str, Any], machine: tuple[str, str],
                 alive: dict[str, bool]) -> None:
    samples = traffic.samples
    outside = [s for s in samples if not window_of(s, windows)]
    errors = sum(not s.ok() for s in samples)
    errors_outside = sum(not s.ok() for s in outside)
    print(f"\nLoad, soak and restarts: {options.seconds:.0f} s of load (ran {load_seconds:.1f} s "
          f"with the last answers); gunicorn {options.web_workers} workers x "
          f"{options.web_threads} threads, Celery worker prefork x "
          f"{options.worker_concurrency}, beat; private PostgreSQL and Redis; the sandbox")
    print(f"machine at start: {machine[0]}; at end: {machine[1]}")
    print("rates per second: " + ", ".join(
        f"{name} {getattr(options, name + '_rate')}" for name in
        ("provision", "poll", "jobs", "clients", "records", "search", "call")) +
        f"; paced requests that started over 50 ms late: {traffic.late}")
    windows_summary(samples, windows)
    print(f"requests: {len(samples)}; failed {errors} ({errors / max(len(samples), 1):.2%}); "
          f"outside the restart windows {errors_outside} of {len(outside)} "
          f"({errors_outside / max(len(outside), 1):.2%})\n")
    route_table(samples, windows)
    print()
    memory_table(memory_start, memory_end)
    print(f"processes still running at the end: {alive}")
    a = accounting
    print(f"\ndrain after the load: {drained_in:.1f} s; still pending then: {left[0]} jobs, "
          f"{left[1]} texts")
    print(f"provisions (warm-up included): {a['accepted']} accepted (202), "
          f"{traffic.abandoned_provisions} given up after {PROVISION_ATTEMPTS} attempts; "
          f"jobs in the database by state {dict(a['jobs'])}; accepted but missing "
          f"{a['accepted_missing']}, accepted and not terminal {a['accepted_not_terminal']}")
    print(f"numbers: {a['purchases']} purchases in the sandbox ledger; duplicate purchases "
          f"{a['duplicate_purchases']}; orphans (owned, no live record) {a['orphans']}; "
          f"recorded but not owned {a['ghosts']}; purchases without a record "
          f"{a['purchases_unrecorded']}")
    print(f"tasks committed while the broker was down, not handed to it (the sweeps sent them "
          f"later): {a['handovers_lost']}")
    print(f"jobs run more than once (a worker lost them to a restart, or Twilio retried): "
          f"{a['jobs_run_again']}, at most {a['most_attempts']} attempts")
    missed = sum(1 for call in traffic.calls if not call.booked and not window_of(
        Sample("call", call.at, call.seconds * 1000, None), windows))
    print(f"calls (warm-up included): {a['calls']} placed, {a['calls_booked']} heard 'booked' "
          f"({missed} not booked outside the restart windows); bookings lost "
          f"{a['bookings_lost']}; appointments in the database {a['appointments']}, of them "
          f"without a confirmation text {a['appointments_without_confirmation_text']}")
    print(f"texts: by status {dict(a['texts'])}; still owed a send {a['texts_pending']}; "
          f"marked sent but unknown to the sandbox {a['texts_sent_unknown_to_twilio']}; "
          f"sent twice {a['texts_sent_twice']}")
