"""Background prefetch of batches: a thread fills a bounded queue ``depth`` batches ahead.
"""
from __future__ import annotations

import queue
import threading

_DONE = object()


def _prefetch(batches, depth):
    """Yield from `batches`, produced `depth` ahead by a daemon thread; errors re-raised here."""
    q: queue.Queue = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def put(item):
        while not stop.is_set():
            try:
                q.put(item, timeout=0.05)
                return True
            except queue.Full:
                continue
        return False

    def work():
        try:
            for b in batches:
                if not put((b, None)):
                    return
            put((_DONE, None))
        except BaseException as exc:  # forwarded to the consumer
            put((_DONE, exc))

    thread = threading.Thread(target=work, name="shendu-DataLoader-prefetch", daemon=True)
    thread.start()
    try:
        while True:
            item, exc = q.get()
            if item is _DONE:
                if exc is not None:
                    raise exc
                return
            yield item
    finally:
        stop.set()
        thread.join(timeout=5.0)
