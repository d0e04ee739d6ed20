"""Where a load phase's CPU went, by role, from /proc (Linux; same machine only).

Rates on a shared 2-core machine drift with its speed from one minute to the next, and a
rate alone does not say whether the app, the database or the load generator used the
cores. This reads the CPU time (user + system) of every process by role before and after
a phase and divides by the requests the phase served: milliseconds of CPU a request for
the app workers, PostgreSQL's backends, the Celery workers, Redis, RabbitMQ and the load
generator (the harness's own children: wrk and locust, counted once they have exited), and
how busy the machine's cores were. From those, the rate the app and its services alone
would reach on these cores if the load generator ran elsewhere.

    before = cpu_snapshot()
    ... run the phase ...
    print(cpu_line(cpu_delta(before, cpu_snapshot()), requests=served))
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from procfs import cmdline, is_app_server

TICK = os.sysconf("SC_CLK_TCK")
# Roles in the order they are printed; "load" is the harness's children (wrk, locust).
ROLES = ("app", "postgres", "celery", "relay", "redis", "rabbitmq", "load")


def _role(comm: str, command: str) -> str | None:
    if is_app_server(command):
        return "app"
    if comm.startswith("postgres") or command.startswith("postgres:"):
        return "postgres"
    if "celery" in command and "linli" in command:
        return "celery"
    if "outbox_relay" in command:  # `linli outbox_relay`: sends the web workers' task rows
        return "relay"
    if comm == "redis-server":
        return "redis"
    if comm == "beam.smp":
        return "rabbitmq"
    return None


@dataclass(frozen=True)
class Snapshot:
    by_pid: dict[int, tuple[str, float]]  # pid -> (role, CPU seconds so far)
    children: float  # CPU seconds of this process's exited, waited-for children
    busy: float  # machine: non-idle CPU seconds since boot, all cores
    total: float  # machine: all CPU seconds since boot, all cores


def cpu_snapshot() -> Snapshot:
    by_pid: dict[int, tuple[str, float]] = {}
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            stat = (proc / "stat").read_text()
            command = cmdline(proc)
        except OSError:
            continue  # gone meanwhile
        comm = stat[stat.index("(") + 1:stat.rindex(")")]
        role = _role(comm, command)
        if role is None:
            continue
        fields = stat[stat.rindex(")") + 2:].split()
        by_pid[int(proc.name)] = (role, (int(fields[11]) + int(fields[12])) / TICK)  # utime, stime
    times = os.times()
    cpu = [int(x) for x in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = cpu[3] + cpu[4]  # idle, iowait
    return Snapshot(by_pid, times.children_user + times.children_system,
                    (sum(cpu[:8]) - idle) / TICK, sum(cpu[:8]) / TICK)


@dataclass(frozen=True)
class Usage:
    seconds: dict[str, float]  # CPU seconds by role over the phase
    busy_share: float  # how busy the cores were, 0..1
    cores: int


def cpu_delta(before: Snapshot, after: Snapshot) -> Usage:
    """CPU used by role between two snapshots. A process that started meanwhile counts
    from zero; one that ended is lost, except the harness's own children (wrk, locust),
    whose time the kernel adds to ours when they are waited for."""
    seconds = dict.fromkeys(ROLES, 0.0)
    for pid, (role, now) in after.by_pid.items():
        then = before.by_pid.get(pid)
        seconds[role] += now - (then[1] if then and then[0] == role else 0.0)
    seconds["load"] += after.children - before.children
    span = after.total - before.total
    return Usage(seconds, (after.busy - before.busy) / span if span else 0.0, os.cpu_count() or 1)


def cpu_line(usage: Usage, *, requests: int) -> str:
    """'CPU a request: app 1.10 ms, postgres 0.40, ...; cores 97 % busy; without the load
    generator these cores would serve ~N/s'."""
    if requests <= 0:
        return "CPU a request: no requests"
    per = {role: usage.seconds[role] * 1000 / requests for role in ROLES}
    served = sum(v for role, v in per.items() if role != "load")
    parts = ", ".join(f"{role} {per[role]:.2f}" for role in ROLES if per[role] >= 0.005)
    line = f"CPU a request: {parts} ms; cores {usage.busy_share * 100:.0f} % busy"
    if served > 0:
        line += (f"; the app and its services alone: {served:.2f} ms, so ~{usage.cores * 1000 / served:,.0f}/s "
                 f"on these {usage.cores} cores with the load generator elsewhere")
    return line


def as_dict(usage: Usage, *, requests: int) -> dict[str, object]:
    per = {role: round(usage.seconds[role] * 1000 / requests, 3) for role in ROLES} if requests else {}
    return {"cpu_ms_per_request": per, "cores_busy_share": round(usage.busy_share, 3), "cores": usage.cores}
