#!/usr/bin/python3
"""Git clean filter for chapters/*.ipynb: a learner's outputs never reach a commit.

Reads a notebook on stdin and writes it to stdout without outputs and execution counts (nbconvert's
ClearOutputPreprocessor), and without what Jupyter adds to metadata when it runs or saves a notebook
(cell metadata `execution`, `ExecuteTime`, `scrolled`, `collapsed`, `trusted`; the kernel's extra
`language_info` fields). The written text is exactly what nbformat writes, so the committed chapters
stay byte-identical.

Configured by `npm run setup` (idempotent) and scoped by .gitattributes to chapters/*.ipynb only:
the committed full-mode runs in site/full-runs/ keep their outputs.
  git config filter.course-strip-outputs.clean "/usr/bin/python3 scripts/strip_outputs.py"
Input that is not a notebook is passed through unchanged (git must never lose a file's content).
"""
import sys

CELL_KEYS = ("execution", "ExecuteTime", "scrolled", "collapsed", "trusted")
LANGUAGE_INFO_KEYS = ("file_extension", "mimetype", "name")


def strip(text):
    import nbformat
    from nbconvert.preprocessors import ClearOutputPreprocessor
    nb = nbformat.reads(text, as_version=4)
    nb, _ = ClearOutputPreprocessor().preprocess(nb, {})
    for cell in nb.cells:
        for k in CELL_KEYS:
            cell.metadata.pop(k, None)
    info = nb.metadata.get("language_info")
    if isinstance(info, dict):
        nb.metadata["language_info"] = {k: info[k] for k in LANGUAGE_INFO_KEYS if k in info}
    nb.metadata.pop("course", None)  # the runner's execution time (build/ copies only)
    return nbformat.writes(nb) + "\n"


def main():
    data = sys.stdin.buffer.read()
    try:
        out = strip(data.decode("utf-8")).encode("utf-8")
    except Exception as e:  # not JSON, not a notebook, a merge conflict: keep it as it is
        sys.stderr.write(f"strip_outputs.py: left unchanged ({type(e).__name__}: {e})\n")
        out = data
    sys.stdout.buffer.write(out)


if __name__ == "__main__":
    main()
