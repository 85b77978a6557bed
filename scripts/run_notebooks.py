#!/usr/bin/python3
"""Execute the course's notebooks top to bottom in real Jupyter (nbclient + the tslab-course kernel).

usage: run_notebooks.py [--out DIR] [--timeout S] [NOTEBOOK ...]   (default: chapters/*.ipynb)

Executed copies are written to DIR (default build/chapters), never over the sources. Prints each
notebook's time; on failure names the notebook, the cell and the error, and exits 1. Ends with the
plain summary line "N passed, N failed".

Why not plain `jupyter nbconvert --execute`: tslab reports compile and runtime errors only on the
cell's stderr stream (its execute_reply has status "error" but no ename/evalue/traceback), so
nbconvert says just "<Error>: "; and after an error tslab *aborts* execute requests that arrive
within 200 ms, which nbclient does not count as a failure. Both are detected here.
"""
import glob
import json
import os
import sys
import time

try:
    import nbformat
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError
except ImportError:  # pragma: no cover
    sys.exit("run_notebooks.py: the Python modules nbformat/nbclient are missing; run `npm run setup` "
             "(Debian: apt-get install python3-nbclient python3-nbconvert jupyter-notebook)")

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def cell_error_text(cell):
    parts = []
    for o in cell.get("outputs", []):
        if o.get("output_type") == "stream" and o.get("name") == "stderr":
            parts.append(o.get("text", ""))
        elif o.get("output_type") == "error":
            parts.append(f"{o.get('ename')}: {o.get('evalue')}\n" + "\n".join(o.get("traceback", [])))
    return "".join(parts).strip() or "(the kernel gave no error text)"


def run(path, out_dir, timeout):
    nb = nbformat.read(path, as_version=4)
    seen = {}

    def on_cell_error(cell, cell_index, execute_reply):
        seen.setdefault("error", (cell_index, cell))

    def on_cell_executed(cell, cell_index, execute_reply):
        status = ((execute_reply or {}).get("content") or {}).get("status")
        if status in ("aborted", "abort"):  # tslab 1.0.22 sends "abort"
            seen.setdefault("aborted", (cell_index, cell))

    client = NotebookClient(
        nb, timeout=timeout, startup_timeout=120, kernel_name="tslab-course",
        resources={"metadata": {"path": os.path.dirname(os.path.abspath(path))}},
        on_cell_error=on_cell_error, on_cell_executed=on_cell_executed)
    t0 = time.time()
    failure, why = None, ""
    try:
        client.execute()
        if "aborted" in seen:
            failure, why = seen["aborted"], "was aborted by the kernel after an earlier error"
    except CellExecutionError:
        failure, why = seen.get("error", (None, None)), "failed"
    except Exception as e:  # kernel died, timeout, unknown kernelspec, ...
        failure = seen.get("error", (None, None))
        why = f"{type(e).__name__}: {e}".strip()
    dt = time.time() - t0
    os.makedirs(out_dir, exist_ok=True)
    out_path = os.path.join(out_dir, os.path.basename(path))
    nb.metadata.setdefault("course", {})["execution_seconds"] = round(dt, 1)
    nbformat.write(nb, out_path)
    rel = os.path.relpath(path)
    if failure is None:
        print(f"ok   {rel} ({dt:.1f}s) -> {os.path.relpath(out_path)}", flush=True)
        return True, dt
    index, cell = failure
    if index is None:
        print(f"FAIL {rel} ({dt:.1f}s): {why}", flush=True)
    else:
        code_no = sum(1 for c in nb.cells[:index + 1] if c.cell_type == "code")
        print(f"FAIL {rel} ({dt:.1f}s): cell {index + 1} (code cell {code_no}) {why}", flush=True)
        print("---- source ----\n" + cell.source + "\n---- error ----\n" + cell_error_text(cell) + "\n----------------", flush=True)
    return False, dt


def main(argv):
    out_dir, timeout, paths = os.path.join(ROOT, "build", "chapters"), 1800, []
    it = iter(argv)
    for a in it:
        if a == "--out":
            out_dir = next(it)
        elif a == "--timeout":
            timeout = int(next(it))
        else:
            paths.append(a)
    if not paths:
        paths = sorted(glob.glob(os.path.join(ROOT, "chapters", "*.ipynb")))
    os.environ.setdefault("JUPYTER_PATH", os.path.join(ROOT, "jupyter"))
    mode = os.environ.get("COURSE_MODE", "full")
    print(f"executing {len(paths)} notebook(s) in Jupyter on the tslab-course kernel (COURSE_MODE={mode})", flush=True)
    results, times = [], {}
    for p in paths:
        ok, dt = run(p, out_dir, timeout)
        results.append(ok)
        times[os.path.basename(p)] = {"ok": ok, "seconds": round(dt, 1)}
    os.makedirs(out_dir, exist_ok=True)
    with open(os.path.join(out_dir, "times.json"), "w") as f:
        json.dump({"mode": mode, "notebooks": times}, f, indent=1)
    print(f"notebooks: {results.count(True)} passed, {results.count(False)} failed")
    return 0 if all(results) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
