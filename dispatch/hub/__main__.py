"""`python -m dispatch.hub`: the same as `hall-hub`."""

from dispatch.hub.app import main

raise SystemExit(main())
