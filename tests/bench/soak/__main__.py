"""`python -m tests.bench.soak --minutes M [--json] [--db postgresql] [--chart PNG]`: see
the package's docstring."""

import sys

from tests.bench.soak.run import main

sys.exit(main())
