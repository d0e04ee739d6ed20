"""/proc readings the load benchmarks share (Linux): a process's command line, whether it is
one of the app server's processes, and its memory. Used by run.py (the workers' memory
after a run), cpu.py (CPU by role) and memory.py (one process stage by stage)."""

from __future__ import annotations

from pathlib import Path


def cmdline(proc: Path) -> str:
    """The process's command line, arguments joined by spaces (OSError once it is gone)."""
    return (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")


def is_app_server(command: str) -> bool:
    """granian serving Linli's WSGI app: its parent and its workers."""
    return "granian" in command and "linli.wsgi" in command


def _table(path: Path, skip: int = 0) -> dict[str, str]:
    return dict(line.split(":", 1) for line in path.read_text().splitlines()[skip:] if ":" in line)


def _mb(table: dict[str, str], key: str) -> float:
    return round(int(table.get(key, "0 kB").split()[0]) / 1024, 1)


def process_memory(proc: Path) -> dict[str, float]:
    """In MB: resident now (VmRSS) and at its peak (VmHWM); from smaps_rollup the
    proportional share (PSS), the private pages (USS: what one more such process costs)
    and the anonymous ones. Also the parent's pid. OSError once the process is gone."""
    status = _table(proc / "status")
    try:
        rollup = _table(proc / "smaps_rollup", skip=1)
    except OSError:
        rollup = {}
    return {"ppid": int(status.get("PPid", "0").strip()),
            "rss_mb": _mb(status, "VmRSS"), "peak_rss_mb": _mb(status, "VmHWM"),
            "pss_mb": _mb(rollup, "Pss"), "uss_mb": round(_mb(rollup, "Private_Clean") + _mb(rollup, "Private_Dirty"), 1),
            "anonymous_mb": _mb(rollup, "Anonymous")}
