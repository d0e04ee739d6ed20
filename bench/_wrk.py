"""wrk (Debian's package, C, a few % of a core at 1,000s of req/s) over a list of paths,
cycled through in order: requests/s, errors and latency percentiles. Shared by
bench/discovery.py and bench/load/run.py."""

from __future__ import annotations

import subprocess
import tempfile
from pathlib import Path

# Lua, shared by both scripts: each thread counts refused answers by kind (a 429 is the
# rate limit, cheap to answer: counted in a rate it would flatter it); at the end one RESULT
# line with the sums over the threads.
_COMMON = """local all_threads = {}
setup = function(thread)
  table.insert(all_threads, thread)
  thread:set("id", #all_threads)  -- the global `id` of that thread's script
end
s429, s4xx, s5xx = 0, 0, 0
response = function(status, headers, body)
  if status == 429 then s429 = s429 + 1
  elseif status >= 500 then s5xx = s5xx + 1
  elseif status >= 400 then s4xx = s4xx + 1 end
end
done = function(summary, latency, requests)
  local r429, r4xx, r5xx = 0, 0, 0
  for _, thread in ipairs(all_threads) do
    r429 = r429 + thread:get("s429"); r4xx = r4xx + thread:get("s4xx"); r5xx = r5xx + thread:get("s5xx")
  end
  io.write(string.format('RESULT %%d %%d %%d %%.2f %%.2f %%.2f %%.2f %%d %%d %%d\\n', summary.requests,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    summary.errors.status, latency:percentile(50) / 1000, latency:percentile(95) / 1000,
    latency:percentile(99) / 1000, summary.duration / 1e6, r429, r4xx, r5xx))
end
"""
# A Lua script: request the paths in turn.
_SCRIPT = """local paths = {%s}
local n = 0
request = function()
  n = n + 1
  return wrk.format('GET', paths[(n %% #paths) + 1])
end
""" + _COMMON


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
    p50, p95, p99, duration = map(float, fields[3:7])
    too_many, client, server = map(int, fields[7:10])
    return {"req_per_s": round(requests / duration, 1), "requests": requests,
            "ok_per_s": round((requests - status_errors) / duration, 1),
            "socket_errors": socket_errors, "status_errors": status_errors,
            "status_429": too_many, "status_4xx": client, "status_5xx": server,
            "p50_ms": p50, "p95_ms": p95, "p99_ms": p99, "connections": connections}


# A Lua script: POST JSON bodies in turn, each with the next bearer token and an
# Idempotency-Key unique to the run, the thread and the request; one RESULT line at the end.
_POST_SCRIPT = """local bodies = {%s}
local tokens = {%s}
local n = 0
request = function()
  n = n + 1
  local headers = {["Content-Type"] = "application/json",
                   ["Authorization"] = "Bearer " .. tokens[(n * 7 + id) %% #tokens + 1],
                   ["Idempotency-Key"] = "%s-" .. id .. "-" .. n}
  return wrk.format("POST", "%s", headers, bodies[n %% #bodies + 1])
end
""" + _COMMON


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
    errors = f"errors {result['socket_errors'] + result['status_errors']:.0f}"
    if result["status_errors"]:  # what they were, and the rate of the answers that were not
        errors += (f" (429 rate limited {result['status_429']:.0f}, other 4xx {result['status_4xx']:.0f}, "
                   f"5xx {result['status_5xx']:.0f}; {result['ok_per_s']:,.0f} req/s answered 2xx/3xx)")
    return (f"{result['req_per_s']:,.0f} req/s, {errors}; "
            f"p50 {result['p50_ms']:.2f} ms  p95 {result['p95_ms']:.2f} ms  p99 {result['p99_ms']:.2f} ms "
            f"(wrk, {result['connections']:.0f} connections)")
