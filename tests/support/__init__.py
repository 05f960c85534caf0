"""What the tests share, one of each; import as `from support.X import ...` (pytest puts tests/ on
sys.path: the rootdir conftest, no tests/__init__.py).

- cli: `Run` (exit, stdout, stderr), `run_cli`/`eventgen` in-process, `eventgen_process` in a fresh
  interpreter; all clear the variables that change eventgen's output (GitHub Actions, colour, CI).
- tree: `snapshot` (files, folders, symlinks), `files_of`, `write_tree`/`write`, `tree_diff`, `leftovers`.
- project: `make_project` over `OPEN_WEBUI_APP` (default) or `TOKEN_APP`; path constants; `git`.
- specs: the shared spec texts (`FEATURE_SPEC`, `CHAT_SPEC`, `CHAT_REVIEW_SPEC`, `PING_SPEC`, `emit_spec`).
- golden: the golden cases' base + overlay inputs, `run_probe` for golden_runtime_probe scenarios.
- spec_review: git repositories of specs for `eventgen review`.
- frontend, runtime, sequenced, terminal: Node/Vite/Chromium, real server processes, the chaos
  client, a pty; marks: the check that Node/browser/redis tests carry their mark.
- hypothesis_profiles: the `ci` and `long` profiles (loaded by tests/conftest.py).
"""

from pathlib import Path

TESTS = Path(__file__).resolve().parent.parent
REPO = TESTS.parent
