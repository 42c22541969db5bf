"""A worker that exits early: the other rank must fail with a clear error within the timeout, not hang.

usage: dead_peer.py all_reduce|ddp TIMEOUT"""
import sys

import numpy as np
from _common import dist, init, sd

from shendu.nn.parallel import DistributedDataParallel as DDP

mode, timeout = sys.argv[1], float(sys.argv[2])
rank, world = init(timeout=timeout)
m = DDP(sd.nn.Linear(3, 2)) if mode == "ddp" else None
if rank == 1:
    print("rank 1 exits early", flush=True)
    sys.exit(0)
if mode == "all_reduce":
    dist.all_reduce(sd.tensor(np.ones(3, np.float32)))
else:
    m(sd.tensor(np.ones((4, 3), np.float32))).sum().backward()
print("rank 0 finished: no error was raised", flush=True)
