"""Shut the course kernel down gracefully (shutdown_request, as nbclient does) while heartbeat pings
keep arriving, and print what the kernel process wrote to stderr (kernel.test.ts checks it).

usage: kernel_shutdown.py --cwd DIR [--pings N]
"""
import sys
import tempfile
import threading
import time

import zmq
from jupyter_client.manager import KernelManager


def main(argv):
    cwd = argv[argv.index("--cwd") + 1]
    pings = int(argv[argv.index("--pings") + 1]) if "--pings" in argv else 20000
    err = tempfile.TemporaryFile(mode="w+")
    km = KernelManager(kernel_name="tslab-course")
    km.start_kernel(cwd=cwd, stdout=err, stderr=err)
    kc = km.client()
    kc.start_channels(hb=False)
    kc.wait_for_ready(timeout=120)
    ctx = zmq.Context.instance()
    hb = ctx.socket(zmq.DEALER)
    hb.linger = 0
    hb.connect(f"{km.transport}://{km.ip}:{km.hb_port}")
    stop = threading.Event()

    def flood():  # a DEALER does not wait for each echo: many pings are in flight at the shutdown
        n = 0
        while not stop.is_set() and n < pings:
            try:
                hb.send_multipart([b"", b"ping"], zmq.NOBLOCK)  # the envelope a REQ socket would add
                n += 1
            except zmq.Again:
                time.sleep(0.001)
            while hb.poll(0):
                hb.recv()

    t = threading.Thread(target=flood)
    t.start()
    time.sleep(0.5)
    km.shutdown_kernel(now=False)  # shutdown_request, then wait for the process to end
    stop.set()
    t.join()
    kc.stop_channels()
    err.seek(0)
    sys.stdout.write(err.read())


if __name__ == "__main__":
    main(sys.argv)
