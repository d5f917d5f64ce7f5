#!/usr/bin/env python3
"""Runs scripts/reference_app.py with SQLAlchemy's pool queue observed or changed, to show where
the application's latency tail comes from when requests queue for connections.

SQLAlchemy's QueuePool waits on ``asyncio.Queue`` (``AsyncAdaptedQueue``): a connection that
comes back is put into the queue and wakes the first waiter, and a checkout that runs before the
woken waiter takes it; the waiter finds the queue empty and queues again, at the back.

  python pool_queue_probe.py observe ARGS...  # the real queue, counting how often a waiter
                                              # was overtaken
  python pool_queue_probe.py fifo ARGS...     # a first-come, first-served hand-off instead:
                                              # a returned connection goes to the first waiter

ARGS are reference_app.py's (one worker). Prints reference_app.py's JSON object on stdout with
``"queue": {"waits": N, "overtaken": M}`` added: checkouts that waited in the queue, and how
many times a woken waiter found it empty again (over the whole run, warm-up included). Used by
scripts/check-pool-queue.sh.

In observe mode it also adds ``"churn"``, over the measured window: how many requests opened a
connection (per 1000), their share of the slowest 1 %, the mean latency of those that did and
of those that did not, and of the checkins: how many found pool_size idle already (the queue
full: the connection is closed) and how many came three or more to one iteration of the event
loop (requests finishing together, which is what fills the queue).
"""
import asyncio
import io
import json
import os
import sys
import time
from contextlib import redirect_stdout

mode, args = sys.argv[1], sys.argv[2:]
counts = {"waits": 0, "overtaken": 0}

if mode == "observe":
    async def get(self):
        rounds = 0
        while self.empty():
            getter = self._get_loop().create_future()
            self._getters.append(getter)
            rounds += 1
            try:
                await getter
            except BaseException:
                getter.cancel()
                try:
                    self._getters.remove(getter)
                except ValueError:
                    pass
                if not self.empty() and not getter.cancelled():
                    self._wakeup_next(self._getters)
                raise
        if rounds:
            counts["waits"] += 1
            counts["overtaken"] += rounds - 1
        return self.get_nowait()
    asyncio.Queue.get = get

    from sqlalchemy.pool import QueuePool
    from sqlalchemy.pool.base import Pool

    iteration = [0]
    opened_by = {}  # task -> connections it opened since its last request ended
    done, checkins = [], []  # (end, latency, opened); (time, queue full, iteration)
    run_once = asyncio.base_events.BaseEventLoop._run_once

    def counted_run_once(self):
        iteration[0] += 1
        run_once(self)

    create_connection = Pool._create_connection

    def counted_create_connection(self):
        task = asyncio.current_task()
        opened_by[task] = opened_by.get(task, 0) + 1
        return create_connection(self)

    do_return_conn = QueuePool._do_return_conn

    def counted_do_return_conn(self, record):
        checkins.append((time.perf_counter(), self._pool.qsize() >= self._pool.maxsize > 0, iteration[0]))
        return do_return_conn(self, record)

    asyncio.base_events.BaseEventLoop._run_once = counted_run_once
    Pool._create_connection = counted_create_connection
    QueuePool._do_return_conn = counted_do_return_conn
elif mode == "fifo":
    def put_nowait(self, item):
        while self._getters:
            getter = self._getters.popleft()
            if not getter.done():
                getter.set_result(item)
                return
        if self.full():
            raise asyncio.QueueFull
        self._put(item)

    def get_nowait(self):
        if self.empty():
            raise asyncio.QueueEmpty
        return self._get()

    async def get(self):
        if not self.empty():
            return self._get()
        getter = self._get_loop().create_future()
        self._getters.append(getter)
        counts["waits"] += 1
        try:
            return await getter
        except BaseException:
            if getter.done() and not getter.cancelled():
                put_nowait(self, getter.result())
            else:
                try:
                    self._getters.remove(getter)
                except ValueError:
                    pass
            raise
    asyncio.Queue.put_nowait = put_nowait
    asyncio.Queue.get_nowait = get_nowait
    asyncio.Queue.get = get
else:
    sys.exit("usage: pool_queue_probe.py observe|fifo REFERENCE_APP_ARGS...")

sys.argv = ["reference_app.py"] + args
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import reference_app  # noqa: E402  (not as __main__: its Recorder is patched before main runs)

window = []
if mode == "observe":
    success, failure, result = (reference_app.Recorder.success, reference_app.Recorder.failure,
                                reference_app.Recorder.result)

    def observed_success(self, start, end):
        done.append((end, end - start, opened_by.pop(asyncio.current_task(), 0)))
        success(self, start, end)

    def observed_failure(self, exc, end):
        opened_by.pop(asyncio.current_task(), None)
        failure(self, exc, end)

    def observed_result(self, window_):
        window.append(window_)
        return result(self, window_)

    reference_app.Recorder.success = observed_success
    reference_app.Recorder.failure = observed_failure
    reference_app.Recorder.result = observed_result

out = io.StringIO()
with redirect_stdout(out):
    code = reference_app.main(args)
report = json.loads(out.getvalue().strip().splitlines()[-1])
report["queue"] = counts
if window:
    ws, we = window[0][0], window[0][1]
    requests = [d for d in done if ws <= d[0] < we]
    slowest = sorted(requests, key=lambda d: d[1])[-max(1, len(requests) // 100):]
    opening = [d for d in requests if d[2]]
    others = [d for d in requests if not d[2]]
    inside = [c for c in checkins if ws <= c[0] < we]
    per_iteration = {}
    for c in inside:
        per_iteration[c[2]] = per_iteration.get(c[2], 0) + 1
    mean_ms = lambda ds: round(1000 * sum(d[1] for d in ds) / len(ds), 2) if ds else None  # noqa: E731
    report["churn"] = {
        "requests": len(requests),
        "opened_per_1000": round(1000 * len(opening) / max(1, len(requests)), 1),
        "slowest_1pct_that_opened": round(sum(1 for d in slowest if d[2]) / max(1, len(slowest)), 2),
        "latency_ms_opened": mean_ms(opening),
        "latency_ms_others": mean_ms(others),
        "checkins": len(inside),
        "checkins_queue_full_per_1000": round(1000 * sum(1 for c in inside if c[1]) / max(1, len(inside)), 1),
        "checkins_3_or_more_per_iteration": round(
            sum(n for n in per_iteration.values() if n >= 3) / max(1, len(inside)), 3),
    }
print(json.dumps(report))
sys.exit(code)
