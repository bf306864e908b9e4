"""`python -m mllint`: the `mllint` command.

`-m` puts the working directory first on `sys.path`. When that directory is the
repository being scanned, a `click.py` or `yaml.py` in it would be imported in
place of the real module, and run; mllint is found where it is installed, so
that entry goes before anything else is imported.
"""
import os
import sys

if not getattr(sys.flags, "safe_path", False) and sys.path and sys.path[0] in ("", os.path.abspath(os.curdir)):
    del sys.path[0]

from mllint.cli import main  # noqa: E402

main()
