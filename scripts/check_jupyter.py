#!/usr/bin/python3
"""Headless check of the README's Jupyter commands, as a learner uses them.

usage: check_jupyter.py [--lab] [--user NAME] [--notebook chapters/01-attention.ipynb]

Starts `bash scripts/notebook.sh` (the command behind `npm run notebook`; with --lab the one behind
`npm run lab`) on a free port, as the current user (root in CI: proves --allow-root) or, with --user,
as another user through runuser. Then, through the Jupyter server's REST and websocket API, like the
browser does: opens the chapter as a session on the `tslab-course` kernel, executes the chapter's
first code cell, checks its output (the backend line every chapter prints first) and an expression
of the cell, deletes the session and shuts the server down. Prints one line
`ok   <what> (<s>)` or `FAIL <what>: <why>` (counted by scripts/test.sh) and exits 0 or 1.
"""
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    def __init__(self, lab, user):
        self.lab, self.user = lab, user
        self.port, self.token = free_port(), uuid.uuid4().hex
        self.tmp = tempfile.mkdtemp(prefix="course-jupyter-")
        env = dict(os.environ, JUPYTER_TOKEN=self.token)
        env.pop("JUPYTER_PATH", None)  # the command must set it itself
        cmd = ["bash", os.path.join(ROOT, "scripts", "notebook.sh")] + (["--lab"] if lab else []) + [
            f"--port={self.port}", "--port-retries=0", "--ip=127.0.0.1"]
        if user:
            # a normal user: its own HOME (Jupyter writes its runtime files there)
            os.chmod(self.tmp, 0o777)
            env.update(HOME=self.tmp, USER=user, LOGNAME=user)
            cmd = ["runuser", "-u", user, "--", "env", f"HOME={self.tmp}", f"USER={user}", f"LOGNAME={user}"] + cmd
        self.log_path = os.path.join(self.tmp, "server.log")
        self.log = open(self.log_path, "w")
        self.proc = subprocess.Popen(cmd, cwd=self.tmp, env=env, stdout=self.log, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL, start_new_session=True)

    def url(self, path):
        return f"http://127.0.0.1:{self.port}{path}"

    def request(self, method, path, body=None, timeout=30):
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(self.url(path), data=data, method=method,
                                     headers={"Authorization": f"token {self.token}", "Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=timeout) as r:
            text = r.read().decode()
            return json.loads(text) if text else None

    def wait_ready(self, timeout=60):
        t0 = time.time()
        while time.time() - t0 < timeout:
            if self.proc.poll() is not None:
                raise RuntimeError(f"the server exited with code {self.proc.returncode}: {self.tail()}")
            try:
                return self.request("GET", "/api/status", timeout=2)
            except Exception:
                time.sleep(0.3)
        raise RuntimeError(f"the server did not answer within {timeout} s: {self.tail()}")

    def tail(self, n=15):
        self.log.flush()
        with open(self.log_path) as f:
            return " | ".join(line.strip() for line in f.readlines()[-n:])

    def stop(self):
        if self.proc.poll() is None:
            try:
                self.request("POST", "/api/shutdown", timeout=5)
                self.proc.wait(timeout=15)
            except Exception:
                pass
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        self.log.close()
        shutil.rmtree(self.tmp, ignore_errors=True)


async def run_cells(server, kernel_id, codes, timeout):
    """Execute codes in order over the kernel's websocket; returns [(status, stdout, stderr)]."""
    from tornado.websocket import websocket_connect
    from tornado.httpclient import HTTPRequest
    ws = await websocket_connect(HTTPRequest(
        f"ws://127.0.0.1:{server.port}/api/kernels/{kernel_id}/channels?session_id={uuid.uuid4().hex}",
        headers={"Authorization": f"token {server.token}"}, connect_timeout=10))
    results = []
    try:
        for code in codes:
            msg_id = uuid.uuid4().hex
            ws.write_message(json.dumps({
                "header": {"msg_id": msg_id, "msg_type": "execute_request", "username": "check", "session": uuid.uuid4().hex,
                           "version": "5.3", "date": ""},
                "parent_header": {}, "metadata": {}, "channel": "shell", "buffers": [],
                "content": {"code": code, "silent": False, "store_history": True, "user_expressions": {}, "allow_stdin": False,
                            "stop_on_error": True}}))
            out, err, status, idle = [], [], None, False
            deadline = time.time() + timeout
            while status is None or not idle:
                import asyncio
                left = deadline - time.time()
                if left <= 0:
                    raise TimeoutError(f"no reply within {timeout} s to {code[:60]!r}")
                raw = await asyncio.wait_for(ws.read_message(), left)
                if raw is None:
                    raise RuntimeError("the kernel's websocket closed")
                m = json.loads(raw)
                if m.get("parent_header", {}).get("msg_id") != msg_id:
                    continue
                t, c = m["msg_type"], m["content"]
                if t == "stream":
                    (out if c["name"] == "stdout" else err).append(c["text"])
                elif t == "execute_reply":
                    status = c["status"]
                elif t == "status" and c["execution_state"] == "idle":
                    idle = True
            results.append((status, "".join(out), "".join(err)))
    finally:
        ws.close()
    return results


def first_code_cell(nb_path):
    with open(os.path.join(ROOT, nb_path)) as f:
        nb = json.load(f)
    return next("".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "code")


def main(argv):
    import asyncio
    lab = "--lab" in argv
    user = argv[argv.index("--user") + 1] if "--user" in argv else None
    nb_path = argv[argv.index("--notebook") + 1] if "--notebook" in argv else "chapters/01-attention.ipynb"
    what = ("npm run lab (JupyterLab)" if lab else "npm run notebook (classic Notebook)") + \
        (f" as user {user}" if user else f" as {'root' if os.getuid() == 0 else 'uid ' + str(os.getuid())}") + f": {nb_path} cell 1"
    t0 = time.time()
    if lab and not os.access(os.path.join(ROOT, ".venv", "bin", "jupyter-lab"), os.X_OK):
        print(f"skip {what}: JupyterLab is not installed in .venv/ (npm run setup could not install it with pip: "
              "see build/lab-pip.log)", flush=True)
        return 0
    if user:
        probe = ["runuser", "-u", user, "--", "test", "-r", os.path.join(ROOT, "node_modules", "tslab", "dist", "main.js")]
        if shutil.which("runuser") is None or os.getuid() != 0:
            print(f"skip {what}: needs root and runuser to switch users", flush=True)
            return 0
        if subprocess.run(probe).returncode != 0:
            print(f"skip {what}: user {user} cannot read this checkout ({ROOT})", flush=True)
            return 0
    server = Server(lab, user)
    try:
        status = server.wait_ready()
        sess = server.request("POST", "/api/sessions", {"path": nb_path, "type": "notebook", "name": os.path.basename(nb_path),
                                                         "kernel": {"name": "tslab-course"}})
        kernel = sess["kernel"]
        if kernel["name"] != "tslab-course":
            raise RuntimeError(f"the session got kernel {kernel['name']!r}, not tslab-course")
        code = first_code_cell(nb_path)
        (s1, out1, err1), (s2, out2, err2) = asyncio.run(run_cells(server, kernel["id"], [code, "process.cwd()"], 120))
        if s1 != "ok" or "backend" not in out1:
            raise RuntimeError(f"cell 1 replied {s1!r}, stdout {out1.strip()!r}, stderr {err1.strip()[:500]!r}")
        want_cwd = os.path.join(ROOT, os.path.dirname(nb_path))
        if s2 != "ok" or os.path.realpath(out2.strip().strip("'")) != os.path.realpath(want_cwd):
            raise RuntimeError(f"the kernel's folder is {out2.strip()!r}, expected the notebook's folder {want_cwd}")
        server.request("DELETE", f"/api/sessions/{sess['id']}")
        if server.request("GET", "/api/kernels"):
            raise RuntimeError("the kernel is still running after the session was deleted")
        print(f"ok   {what} ({time.time() - t0:.1f}s): {out1.strip().splitlines()[0]}", flush=True)
        return 0
    except Exception as e:
        if os.environ.get("CHECK_DEBUG"):
            import traceback
            traceback.print_exc()
        print(f"FAIL {what} ({time.time() - t0:.1f}s): {type(e).__name__}: {e}\n     server log: {server.tail()}", flush=True)
        return 1
    finally:
        server.stop()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
