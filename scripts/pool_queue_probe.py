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

ARGS are reference_app.py's. Prints reference_app.py's JSON object on stdout with
``"queue": {"waits": N, "overtaken": M}`` added: checkouts that waited in the queue, and how
many times a woken waiter found it empty again (over the whole run, warm-up included). Used by
scripts/check-pool-queue.sh.
"""
import asyncio
import io
import json
import os
import runpy
import sys
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
out = io.StringIO()
code = 0
with redirect_stdout(out):
    try:
        runpy.run_path(os.path.join(os.path.dirname(os.path.abspath(__file__)), "reference_app.py"),
                       run_name="__main__")
    except SystemExit as exit_:
        code = exit_.code or 0
report = json.loads(out.getvalue().strip().splitlines()[-1])
report["queue"] = counts
print(json.dumps(report))
sys.exit(code)
