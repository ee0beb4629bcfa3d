"""`python -m dispatch.hub`: the same as `hall-hub`."""

from dispatch.hub.cli import main

raise SystemExit(main())
