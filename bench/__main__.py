"""``python -m bench`` from the repository root runs bench/run.py."""
import sys

from bench.run import main

sys.exit(main())
