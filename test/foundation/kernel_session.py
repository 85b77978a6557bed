#!/usr/bin/python3
"""Drive one tslab-course kernel session for the tests (jupyter_client, like a notebook front end).

usage: kernel_session.py --cwd DIR [--pipelined] < steps.json > result.json

steps.json: a list of steps, each {"code": "..."} (execute a cell), {"write": PATH, "text": "..."}
(edit a file, then wait 1.5 s so the kernel's file watcher sees it) or {"sleep": seconds}.
Sequential by default: each cell's reply is awaited before the next step. --pipelined sends every
cell at once, as "Run All" does. The kernelspec comes from JUPYTER_PATH (set by the caller).

result.json: one entry per cell, with status, stdout, stderr, error (ename/evalue/traceback),
display (display_data/update_display_data messages with their arrival times, in seconds since the
cell was sent), and the times of the first output, the execute_reply and the idle status.
"""
import json
import sys
import time

from jupyter_client.manager import KernelManager


def main(argv):
    cwd = argv[argv.index("--cwd") + 1]
    pipelined = "--pipelined" in argv
    steps = json.load(sys.stdin)
    km = KernelManager(kernel_name="tslab-course")
    km.start_kernel(cwd=cwd, stdout=sys.stderr, stderr=sys.stderr)  # our stdout is the result
    kc = km.blocking_client()
    kc.start_channels()
    results, pending = [], {}
    try:
        kc.wait_for_ready(timeout=90)

        def send(code):
            msg_id = kc.execute(code, stop_on_error=False)
            r = {"code": code, "status": None, "stdout": "", "stderr": "", "error": None, "display": [],
                 "t_sent": time.time(), "t_first_output": None, "t_reply": None, "t_idle": None}
            pending[msg_id] = r
            results.append(r)

        def collect(until_all=True, timeout=600):
            deadline = time.time() + timeout
            while any(r["t_idle"] is None or r["t_reply"] is None for r in pending.values()):
                if time.time() > deadline:
                    raise TimeoutError("the kernel did not finish in time")
                for get in (kc.get_iopub_msg, kc.get_shell_msg):
                    try:
                        m = get(timeout=0.05)
                    except Exception:
                        continue
                    r = pending.get(m["parent_header"].get("msg_id"))
                    if r is None:
                        continue
                    now = time.time() - r["t_sent"]
                    t, c = m["msg_type"], m["content"]
                    if t in ("stream", "display_data", "update_display_data", "error") and r["t_first_output"] is None:
                        r["t_first_output"] = now
                    if t == "stream":
                        r[c["name"]] += c["text"]
                    elif t in ("display_data", "update_display_data"):
                        r["display"].append({"type": t, "t": now, "data": c.get("data", {}),
                                             "display_id": (c.get("transient") or {}).get("display_id")})
                    elif t == "error":
                        r["error"] = {k: c.get(k) for k in ("ename", "evalue", "traceback")}
                    elif t == "execute_reply":
                        r["status"], r["t_reply"] = c["status"], now
                        if c["status"] == "error" and r["error"] is None and c.get("ename"):
                            r["error"] = {k: c.get(k) for k in ("ename", "evalue", "traceback")}
                    elif t == "status" and c["execution_state"] == "idle":
                        r["t_idle"] = now

        for step in steps:
            if "code" in step:
                send(step["code"])
                if not pipelined:
                    collect()
            elif "write" in step:
                collect()
                with open(step["write"], "w") as f:
                    f.write(step["text"])
                time.sleep(1.5)
            elif "sleep" in step:
                time.sleep(step["sleep"])
        collect()
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)
    json.dump(results, sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
