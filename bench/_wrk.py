"""wrk (Debian's package, C, a few % of a core at 1,000s of req/s) over a list of paths,
cycled through in order: requests/s, errors and latency percentiles. Shared by
bench/discovery.py and bench/load/run.py."""

from __future__ import annotations

import subprocess
import tempfile
from pathlib import Path

# Lua: at the end print one RESULT line (both scripts below end with it).
_DONE = """done = function(summary, latency, requests)
  io.write(string.format('RESULT %%d %%d %%d %%.2f %%.2f %%.2f %%.2f\\n', summary.requests,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    summary.errors.status, latency:percentile(50) / 1000, latency:percentile(95) / 1000,
    latency:percentile(99) / 1000, summary.duration / 1e6))
end
"""
# A Lua script: request the paths in turn.
_SCRIPT = """local paths = {%s}
local n = 0
request = function()
  n = n + 1
  return wrk.format('GET', paths[(n %% #paths) + 1])
end
""" + _DONE


def wrk_run(base_url: str, paths: list[str], *, seconds: float, connections: int = 32,
            threads: int = 2) -> dict[str, float]:
    """Closed loop: `connections` keep-alive connections, each sending its next request
    when the answer to the last arrives. Non-2xx/3xx answers count as `status_errors`."""
    script = Path(tempfile.mkdtemp(prefix="linli-wrk-")) / "paths.lua"
    script.write_text(_SCRIPT % ",\n".join(f'"{p}"' for p in paths))
    return _wrk(base_url, script, seconds=seconds, connections=connections, threads=threads)


def _wrk(base_url: str, script: Path, *, seconds: float, connections: int, threads: int) -> dict[str, float]:
    out = subprocess.run(["wrk", f"-t{threads}", f"-c{connections}", f"-d{int(seconds)}s", "--timeout", "10s",
                          "-s", str(script), base_url], capture_output=True, text=True, check=True).stdout
    fields = next(line for line in out.splitlines() if line.startswith("RESULT")).split()[1:]
    requests, socket_errors, status_errors = map(int, fields[:3])
    p50, p95, p99, duration = map(float, fields[3:])
    return {"req_per_s": round(requests / duration, 1), "requests": requests,
            "socket_errors": socket_errors, "status_errors": status_errors,
            "p50_ms": p50, "p95_ms": p95, "p99_ms": p99, "connections": connections}


# A Lua script: POST JSON bodies in turn, each with the next bearer token and an
# Idempotency-Key unique to the run, the thread and the request; one RESULT line at the end.
_POST_SCRIPT = """local bodies = {%s}
local tokens = {%s}
local threads, n = 0, 0
setup = function(thread)
  threads = threads + 1
  thread:set("id", threads)  -- the global `id` of that thread's script
end
request = function()
  n = n + 1
  local headers = {["Content-Type"] = "application/json",
                   ["Authorization"] = "Bearer " .. tokens[(n * 7 + id) %% #tokens + 1],
                   ["Idempotency-Key"] = "%s-" .. id .. "-" .. n}
  return wrk.format("POST", "%s", headers, bodies[n %% #bodies + 1])
end
""" + _DONE


def _lua_string(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def wrk_post_run(base_url: str, path: str, bodies: list[str], tokens: list[str], *, run: str,
                 seconds: float, connections: int = 32, threads: int = 2) -> dict[str, float]:
    """`wrk_run` for POSTs of JSON `bodies` to `path` (cycled), each with a bearer token
    (cycled) and an Idempotency-Key unique across the run (`run`-thread-request): order
    placement with a load generator in C, so the client costs little of the cores."""
    script = Path(tempfile.mkdtemp(prefix="linli-wrk-")) / "post.lua"
    script.write_text(_POST_SCRIPT % (",\n".join(_lua_string(b) for b in bodies),
                                      ",\n".join(_lua_string(t) for t in tokens), run, path))
    return _wrk(base_url, script, seconds=seconds, connections=connections, threads=threads)


def wrk_line(result: dict[str, float]) -> str:
    return (f"{result['req_per_s']:,.0f} req/s, errors {result['socket_errors'] + result['status_errors']:.0f}; "
            f"p50 {result['p50_ms']:.2f} ms  p95 {result['p95_ms']:.2f} ms  p99 {result['p99_ms']:.2f} ms "
            f"(wrk, {result['connections']:.0f} connections)")
