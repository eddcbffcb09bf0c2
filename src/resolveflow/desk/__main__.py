"""``python -m resolveflow.desk``: serve the help desk (see :func:`resolveflow.desk.main`)."""

from __future__ import annotations

from resolveflow.desk import main

if __name__ == "__main__":
    raise SystemExit(main())
