"""The Ray half of `pnpm bench --peers ray`: BENCHMARKS.md's workloads on Ray, one repetition.

bench/ray-peers.ts runs this script once per run, in a fresh process, with a Python where
`import ray` works:

    python bench/ray_peers.py --config '{"workloads": ["startup", "W1"], "W1_TASKS": 10000, ...}'

The sizes come from bench/config.ts through --config (no defaults here, so the two sides cannot
drift apart). The script starts its own local cluster with ray.init(num_cpus=2) (a GCS, a raylet
and its workers, under a temporary directory of its own), times start-up to the first result of
a tiny task, warms up, runs the selected workloads, shuts the cluster down, makes sure none of
its processes is left, and prints one line on stdout:

    WEFT_RAY_FIGURES {"figures": {"ray.W1.tasks_per_s": 2455.0, ...}, "failures": [], "version": "2.58.0", "processes": 9}

followed by nothing else. A workload that fails is left out of "figures" and named in
"failures", as are processes left after ray.shutdown(); "processes" counts those of the cluster
seen at the end. Sizes and clocks follow weft's side (bench/weft-workloads.ts): the data is made
before the clock, results are checked.
"""

import argparse
import json
import logging
import math
import os
import shutil
import signal
import sys
import tempfile
import threading
import time
import traceback

# Before `import ray`, which reads them. Ray on Linux takes the machine's address as the node's
# and listens on every interface; with clusters "disabled" (as it does on macOS and Windows) it
# uses 127.0.0.1 and its GCS, raylet, agents and workers listen on loopback only. A local
# cluster of one node is all this script starts. No usage statistics sent.
os.environ["RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER"] = "0"
os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")

import numpy as np  # noqa: E402
import ray  # noqa: E402
import psutil  # noqa: E402  (after ray: ray ships it in ray/thirdparty_files, which `import ray` puts on sys.path)

READY_PREFIX = "WEFT_RAY_FIGURES"
# Tiny tasks and calls run before any clock starts, as on weft's side (config.ts WARMUP_TASKS, WARMUP_BURSTS,
# WARMUP_SEQUENTIAL and W3_WARMUP_CALLS): Ray starts workers lazily, and the first calls import the task code.
# How long Ray's processes may take to exit after ray.shutdown() before we kill them by pid
# (within the 5 s bench/child-process.ts gives after SIGTERM).
LEFTOVER_GRACE_S = 3.0


@ray.remote
def tiny(i):
    return i


@ray.remote
def array_sum(a):
    return float(a.sum())


@ray.remote
def leaf(i):
    return i


@ray.remote
def add(a, b):
    return a + b


@ray.remote
def parent(p, children):
    return sum(ray.get([tiny.remote(p * children + j) for j in range(children)]))


def pi_count(samples, seed):
    # numpy in blocks, since a Python loop would measure the interpreter, not the scheduling.
    rng = np.random.default_rng(seed)
    hits = 0
    block = 1_000_000
    left = samples
    while left > 0:
        n = min(block, left)
        x = rng.random(n)
        y = rng.random(n)
        hits += int(np.count_nonzero(x * x + y * y <= 1.0))
        left -= n
    return hits


pi_hits = ray.remote(pi_count)


@ray.remote
class Counter:
    def __init__(self, start):
        self.n = start

    def inc(self, by):
        self.n += by
        return self.n

    def value(self):
        return self.n


def check(what, actual, expected):
    if actual != expected:
        raise AssertionError(f"{what}: expected {expected}, got {actual}")


def quantile(xs, q):
    """Nearest rank, as bench/stats.ts: p99 of 1,000 samples is the 990th."""
    s = sorted(xs)
    return s[min(len(s) - 1, max(0, math.ceil(q * len(s)) - 1))]


def now():
    return time.perf_counter()


def start(num_cpus, temp_dir):
    """ray.init to the first tiny result, in seconds (the start-up figure)."""
    t0 = now()
    ray.init(
        num_cpus=num_cpus,
        include_dashboard=False,
        _temp_dir=temp_dir,
        logging_level=logging.WARNING,
        log_to_driver=False,
    )
    # ray.init installs a C++ handler for SIGTERM that dumps a stack and dies without
    # ray.shutdown(); ours shuts the cluster down first.
    signal.signal(signal.SIGTERM, on_sigterm)
    check("first task", ray.get(tiny.remote(7)), 7)
    return now() - t0


def warm_up(cfg):
    n = cfg["WARMUP_TASKS"]
    for _ in range(cfg["WARMUP_BURSTS"]):
        check("warm-up", len(ray.get([tiny.remote(i) for i in range(n)])), n)
    for i in range(cfg["WARMUP_SEQUENTIAL"]):
        ray.get(tiny.remote(i))


def w1(cfg, out):
    n = cfg["W1_TASKS"]
    t0 = now()
    values = ray.get([tiny.remote(i) for i in range(n)])
    s = now() - t0
    check("W1 last value", values[-1], n - 1)
    out["ray.W1.tasks_per_s"] = n / s


def w2(cfg, out):
    us = []
    for i in range(cfg["W2_CALLS"]):
        t0 = now()
        v = ray.get(tiny.remote(i))
        us.append((now() - t0) * 1e6)
        if v != i:
            check(f"W2 call {i}", v, i)
    out["ray.W2.median_us"] = quantile(us, 0.5)
    out["ray.W2.p99_us"] = quantile(us, 0.99)


def warm_up_actor(cfg, counter):
    burst = cfg["W3_WARMUP_CALLS"]
    check("W3 warm-up burst", ray.get([counter.inc.remote(1) for _ in range(burst)])[-1], burst)
    for _ in range(cfg["WARMUP_SEQUENTIAL"]):
        ray.get(counter.inc.remote(1))
    n = ray.get(counter.value.remote())
    check("W3 warm-up value", n, burst + cfg["WARMUP_SEQUENTIAL"])
    return n


def w3(cfg, out):
    """W3a and W3b on one Counter, then W3n on one Counter per CPU; each killed afterwards."""
    counter = Counter.remote(0)
    try:
        n = warm_up_actor(cfg, counter)
        calls = cfg["W3A_CALLS"]
        t0 = now()
        values = ray.get([counter.inc.remote(1) for _ in range(calls)])
        s = now() - t0
        check("W3a first value", values[0], n + 1)
        check("W3a last value", values[-1], n + calls)
        n += calls
        out["ray.W3a.calls_per_s"] = calls / s
        us = []
        for i in range(cfg["W3B_CALLS"]):
            t0 = now()
            v = ray.get(counter.inc.remote(1))
            us.append((now() - t0) * 1e6)
            if v != n + i + 1:
                check(f"W3b call {i}", v, n + i + 1)
        out["ray.W3b.median_us"] = quantile(us, 0.5)
        out["ray.W3b.p99_us"] = quantile(us, 0.99)
    finally:
        ray.kill(counter)
    spread = [Counter.remote(0) for _ in range(cfg["NUM_CPUS"])]
    try:
        base = [warm_up_actor(cfg, a) for a in spread]
        calls = cfg["W3N_CALLS"]
        k = len(spread)
        t0 = now()
        values = ray.get([spread[i % k].inc.remote(1) for i in range(calls)])
        s = now() - t0
        for a in range(k):
            mine = values[a::k]
            check(f"W3n actor {a} last value", mine[-1], base[a] + len(mine))
        out["ray.W3n.calls_per_s"] = calls / s
    finally:
        for a in spread:
            ray.kill(a)


def w4(cfg, out):
    big = np.ones(cfg["W4_BIG_BYTES"] // 8, dtype=np.float64)  # made before the clock
    t0 = now()
    total = ray.get(array_sum.remote(ray.put(big)))
    s = now() - t0
    check("W4 sum", total, float(big.size))
    out["ray.W4.s"] = s
    out["ray.W4.gb_per_s"] = cfg["W4_BIG_BYTES"] / s / 1e9
    small = np.full(cfg["W4_SMALL_BYTES"] // 8, 2.0)
    for _ in range(5):
        ray.get(ray.put(small))
    ops = cfg["W4_SMALL_OPS"]
    t0 = now()
    for _ in range(ops):
        back = ray.get(ray.put(small))
        if back.size != small.size:
            check("W4 1 MB length", back.size, small.size)
    out["ray.W4.mb1_us"] = (now() - t0) * 1e6 / ops


def w5(cfg, out):
    leaves = cfg["W5_LEAVES"]
    t0 = now()
    level = [leaf.remote(i) for i in range(leaves)]
    while len(level) > 1:
        level = [add.remote(level[k], level[k + 1]) for k in range(0, len(level) - 1, 2)]
    total = ray.get(level[0])
    s = now() - t0
    check("W5 sum", total, leaves * (leaves - 1) // 2)
    out["ray.W5.s"] = s


def w6(cfg, out):
    parents, children = cfg["W6_PARENTS"], cfg["W6_CHILDREN"]
    t0 = now()
    sums = ray.get([parent.remote(p, children) for p in range(parents)])
    s = now() - t0
    n = parents * children
    check("W6 sum", sum(sums), n * (n - 1) // 2)
    out["ray.W6.s"] = s


def pi_samples(cfg):
    """Samples for one pi task of ~W7_TASK_S here, timed in this process (as weft calibrates its kernel).

    The best of 5 probes: on a busy machine one probe can take several times as long, and the
    tasks would then be that much shorter than W7_TASK_S.
    """
    probe = 4_000_000
    pi_count(probe // 4, 0)  # numpy's first call pays for imports
    best = math.inf
    for _ in range(5):
        t0 = now()
        pi_count(probe, 0)
        best = min(best, now() - t0)
    return max(probe, int(probe * cfg["W7_TASK_S"] / best))


def pi_seconds(cfg, num_cpus, samples, temp_dir):
    """Seconds for the W7 tasks on a fresh, warm cluster of num_cpus workers."""
    ray.shutdown()
    start(num_cpus, temp_dir)
    warm_up(cfg)
    ray.get([pi_hits.remote(100_000, i) for i in range(4 * num_cpus)])
    t0 = now()
    ray.get([pi_hits.remote(samples, i) for i in range(cfg["W7_TASKS"])])
    return now() - t0


def w7(cfg, out, temp_dir):
    samples = pi_samples(cfg)
    t1 = pi_seconds(cfg, 1, samples, temp_dir)
    t2 = pi_seconds(cfg, 2, samples, temp_dir)
    out["ray.W7.t1_s"] = t1
    out["ray.W7.t2_s"] = t2
    out["ray.W7.efficiency"] = t1 / (2 * t2)


STEADY = [("W1", w1), ("W2", w2), ("W3", w3), ("W4", w4), ("W5", w5), ("W6", w6)]


def run(cfg, temp_dir):
    out, failures = {}, []
    selected = set(cfg["workloads"])
    out_startup = start(cfg["NUM_CPUS"], temp_dir)
    if "startup" in selected:
        out["ray.startup.s"] = out_startup
    warm_up(cfg)
    for wid, body in STEADY:
        if wid in selected:
            attempt(wid, lambda: body(cfg, out), failures)
    # Last: it restarts the cluster at 1 and then 2 CPUs.
    if "W7" in selected:
        attempt("W7", lambda: w7(cfg, out, temp_dir), failures)
    return out, failures


def attempt(wid, body, failures):
    try:
        body()
    except Exception as e:  # a failed workload is reported, the others still run
        failures.append(f"ray {wid}: {type(e).__name__}: {e}")
        traceback.print_exc(file=sys.stderr)


def own_ray_processes():
    """This process's descendants: Ray's GCS, raylet, agents and workers of our cluster only."""
    try:
        return psutil.Process().children(recursive=True)
    except psutil.Error:
        return []


def shutdown_and_reap(procs):
    """ray.shutdown(), then wait for every process we saw; kill survivors by pid. Returns how many were killed."""
    ray.shutdown()
    procs = {p.pid: p for p in procs + own_ray_processes()}.values()
    _, alive = psutil.wait_procs(list(procs), timeout=LEFTOVER_GRACE_S)
    for p in alive:
        try:
            print(f"ray_peers: pid {p.pid} ({p.name()}) still running {LEFTOVER_GRACE_S} s after ray.shutdown(); killing it", file=sys.stderr)
            p.kill()
        except psutil.Error:
            pass
    return len(alive)


def watch_stdin():
    """Ends the run (cleanly, through SIGTERM's handler) when the bench that started us goes away."""
    def watch():
        # os.read, not sys.stdin: a daemon thread blocked inside the buffered reader holds its
        # lock, and the interpreter aborts at exit when it cannot take it.
        while os.read(0, 65536):
            pass
        os.kill(os.getpid(), signal.SIGTERM)

    threading.Thread(target=watch, daemon=True).start()


def on_sigterm(signum, frame):
    raise SystemExit(f"ray_peers: signal {signum}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", required=True, help="JSON: workloads and sizes, from bench/config.ts")
    parser.add_argument("--no-stdin-watch", action="store_true", help="do not end when stdin closes (running by hand)")
    args = parser.parse_args()
    cfg = json.loads(args.config)
    if not args.no_stdin_watch:
        watch_stdin()
    signal.signal(signal.SIGTERM, on_sigterm)
    # Short: Ray puts unix sockets under it, and their paths are limited to 107 bytes.
    temp_dir = tempfile.mkdtemp(prefix="weft-ray-", dir="/tmp")
    seen = []
    figures, failures = {}, []
    try:
        figures, failures = run(cfg, temp_dir)
        seen = own_ray_processes()
    except Exception as e:
        failures.append(f"ray: {type(e).__name__}: {e}")
        traceback.print_exc(file=sys.stderr)
        seen = own_ray_processes()
    finally:
        killed = shutdown_and_reap(seen)
        shutil.rmtree(temp_dir, ignore_errors=True)
    if killed:
        failures.append(f"ray: {killed} process(es) left after ray.shutdown(), killed by pid")
    result = {"figures": figures, "failures": failures, "version": ray.__version__, "processes": len(seen)}
    print(f"{READY_PREFIX} {json.dumps(result)}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
