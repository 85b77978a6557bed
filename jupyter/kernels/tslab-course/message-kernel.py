"""A Jupyter kernel that starts and answers every cell with one message.

usage: message-kernel.py CONNECTION_FILE MESSAGE

kernel.cjs runs it when the course kernel cannot start (a notebook outside the course folder, no
node_modules/tslab): the notebook then shows the reason under each cell instead of "Kernel
starting, please wait..." and "Connection failed", with the reason only in the server's terminal.
Uses pyzmq and jupyter_client, which every Jupyter installation has.
"""
import json
import sys

import zmq
from jupyter_client.session import Session


def main(conn_file, message):
    with open(conn_file) as f:
        conn = json.load(f)
    session = Session(key=conn["key"].encode(), signature_scheme=conn.get("signature_scheme", "hmac-sha256"),
                      username="tslab-course")
    ctx = zmq.Context()

    def bind(kind, port_name):
        s = ctx.socket(kind)
        s.bind(f"{conn['transport']}://{conn['ip']}:{conn[port_name]}")
        return s

    shell, control, stdin = bind(zmq.ROUTER, "shell_port"), bind(zmq.ROUTER, "control_port"), bind(zmq.ROUTER, "stdin_port")
    iopub, hb = bind(zmq.PUB, "iopub_port"), bind(zmq.REP, "hb_port")
    poller = zmq.Poller()
    for s in (shell, control, stdin, hb):
        poller.register(s, zmq.POLLIN)
    count = 0
    info = {"status": "ok", "protocol_version": "5.3", "implementation": "tslab-course (not started)",
            "implementation_version": "1.0.0", "banner": message,
            "language_info": {"name": "typescript", "mimetype": "text/typescript", "file_extension": ".ts"}}
    while True:
        for sock, _ in poller.poll():
            if sock is hb:
                hb.send(hb.recv())
                continue
            idents, msg = session.recv(sock, mode=0)
            if msg is None:
                continue
            t, parent = msg["header"]["msg_type"], msg
            session.send(iopub, "status", {"execution_state": "busy"}, parent=parent)
            reply_type, content = t.replace("_request", "_reply"), {"status": "ok"}
            if t == "kernel_info_request":
                content = info
            elif t == "execute_request":
                count += 1
                err = {"ename": "CourseKernelError", "evalue": message, "traceback": [message]}
                session.send(iopub, "error", err, parent=parent)
                content = dict(err, status="error", execution_count=count)
            elif t == "is_complete_request":
                content = {"status": "complete"}
            elif t == "complete_request":
                pos = msg["content"].get("cursor_pos", 0)
                content = {"status": "ok", "matches": [], "cursor_start": pos, "cursor_end": pos, "metadata": {}}
            elif t == "inspect_request":
                content = {"status": "ok", "found": False, "data": {}, "metadata": {}}
            elif t == "comm_info_request":
                content = {"status": "ok", "comms": {}}
            elif t == "history_request":
                content = {"status": "ok", "history": []}
            elif t == "shutdown_request":
                content = {"status": "ok", "restart": msg["content"].get("restart", False)}
            session.send(sock, reply_type, content, parent=parent, ident=idents)
            session.send(iopub, "status", {"execution_state": "idle"}, parent=parent)
            if t == "shutdown_request":
                return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2]))
