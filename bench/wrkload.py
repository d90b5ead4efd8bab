"""The load client for `bench/run.py` when wrk is installed (the default): wrk drives the
requests from C, so the client costs a few per cent of a core instead of the 20–50 % the
Python client (httpx, asyncio) takes on this 2-core machine, where every cycle the client burns
is a cycle the server under test does not get.

The requests of a run are generated in Python exactly as for the Python client (the same
makers), written into a Lua script as a table, and replayed by wrk in order (each connection
takes the next one; the table wraps around if wrk outruns it, so it is made larger than a run
can use). wrk is closed-loop like the Python client: each connection sends its next request
when the previous answer arrives. The latency distribution comes from wrk's own histogram
(microseconds); a response whose status is not the scenario's expected one is an error.
Per-query figures (the search breakdown by kind) need the Python client: `--client httpx`.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

RequestSpec = tuple[str, str, dict[str, Any] | None, int, str]

WRK = shutil.which("wrk")

_SCRIPT = r"""
local requests = %(requests)s
local expected = %(expected)d
local token = %(token)s
local nthreads = %(threads)d
local threads = {}
local next_id = 0

function setup(thread)
  thread:set("thread_id", next_id)
  next_id = next_id + 1
  table.insert(threads, thread)
end

counter, statuses, errors, first_error = 0, {}, 0, ""  -- globals: done() reads them with thread:get
function init(args)
  counter = thread_id
  statuses = {}
  errors = 0
  first_error = ""
end

local headers = {
  ["Authorization"] = "Bearer " .. token,
  ["Content-Type"] = "application/json",
  ["User-Agent"] = "kefu-bench/wrk",
}

function request()
  local r = requests[(counter %% #requests) + 1]
  counter = counter + nthreads
  return wrk.format(r[1], r[2], headers, r[3])
end

function response(status, hdrs, body)
  local key = tostring(status)
  statuses[key] = (statuses[key] or 0) + 1
  if status ~= expected then
    errors = errors + 1
    if first_error == "" then first_error = key .. ": " .. string.sub(body or "", 1, 200) end
  end
end

local function escape(c)
  return string.format("\\u%%04x", string.byte(c))
end

local function quote(s)
  return '"' .. string.gsub(s, '[%%c"\\]', escape) .. '"'
end

function done(summary, latency, reqs)
  local all, errs, sample = {}, 0, ""
  for _, thread in ipairs(threads) do
    local st = thread:get("statuses")
    for k, v in pairs(st) do all[k] = (all[k] or 0) + v end
    errs = errs + thread:get("errors")
    local fe = thread:get("first_error")
    if sample == "" and fe ~= "" then sample = fe end
  end
  local parts = {}
  for k, v in pairs(all) do table.insert(parts, quote(k) .. ":" .. v) end
  local hist = {}
  for i = 1, #latency do
    local value, count = latency(i)
    table.insert(hist, "[" .. value .. "," .. count .. "]")
  end
  io.write("KEFU-WRK-RESULT ")
  io.write("{\"requests\":" .. summary.requests)
  io.write(",\"duration_us\":" .. summary.duration)
  local e = summary.errors
  io.write(",\"socket_errors\":" .. (e.connect + e.read + e.write + e.timeout))
  io.write(",\"errors\":" .. errs)
  io.write(",\"error_sample\":" .. quote(sample))
  io.write(",\"statuses\":{" .. table.concat(parts, ",") .. "}")
  io.write(",\"histogram_us\":[" .. table.concat(hist, ",") .. "]}\n")
end
"""


def _lua_string(value: str) -> str:
    # A Lua long bracket cannot hold "]==]"; JSON bodies and paths never contain it.
    return "[==[" + value + "]==]"


@dataclass
class WrkSample:
    latencies: list[float] = field(default_factory=list)  # seconds, one per request
    statuses: dict[str, int] = field(default_factory=dict)
    errors: int = 0
    error_samples: list[str] = field(default_factory=list)
    wall: float = 0.0


def run_wrk(
    *,
    base_url: str,
    token: str,
    concurrency: int,
    total: int,
    make: Callable[[int], RequestSpec],
    seconds: float,
) -> WrkSample:
    """Drive `make`'s requests at `concurrency` connections for `seconds`; `total` requests are
    generated (the table wraps around if wrk sends more)."""
    if WRK is None:
        raise RuntimeError("wrk is not installed (apt-get install wrk)")
    specs = [make(index) for index in range(total)]
    expected = specs[0][3]
    rows = []
    for method, path, body, _expected, _label in specs:
        payload = json.dumps(body, ensure_ascii=False) if body is not None else ""
        rows.append(
            "{" + ",".join((_lua_string(method), _lua_string(path), _lua_string(payload))) + "}"
        )
    threads = min(2, concurrency)
    script = _SCRIPT % {
        "requests": "{\n" + ",\n".join(rows) + "\n}",
        "expected": expected,
        "token": _lua_string(token),
        "threads": threads,
    }
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False, encoding="utf-8") as f:
        f.write(script)
        script_path = Path(f.name)
    try:
        proc = subprocess.run(
            [
                WRK,
                f"-t{threads}",
                f"-c{concurrency}",
                f"-d{max(1, round(seconds))}s",
                "--timeout",
                "30s",
                "-s",
                str(script_path),
                base_url,
            ],
            capture_output=True,
            text=True,
            check=False,
        )
    finally:
        script_path.unlink(missing_ok=True)
    line = next((ln for ln in proc.stdout.splitlines() if ln.startswith("KEFU-WRK-RESULT ")), None)
    if proc.returncode != 0 or line is None:
        raise RuntimeError(f"wrk failed ({proc.returncode}): {proc.stdout[-500:]} {proc.stderr}")
    result = json.loads(line.removeprefix("KEFU-WRK-RESULT "))
    sample = WrkSample()
    for value_us, count in result["histogram_us"]:
        sample.latencies.extend([value_us / 1_000_000] * int(count))
    sample.statuses = {key: int(value) for key, value in result["statuses"].items()}
    sample.errors = int(result["errors"]) + int(result["socket_errors"])
    if result["error_sample"]:
        sample.error_samples.append(result["error_sample"])
    if result["socket_errors"]:
        sample.error_samples.append(f"{result['socket_errors']} socket errors (wrk)")
    sample.wall = result["duration_us"] / 1_000_000
    return sample
