"""`python -m shendu ...` runs the `shendu` command (see shendu.cli)."""
import sys

from .cli import main

sys.exit(main())
