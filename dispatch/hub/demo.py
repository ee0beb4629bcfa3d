"""What the demo shares between the hub and the console that starts it: no imports.

`hall-console --demo` starts a hub (`dispatch.hub.process`) and posts reports to it
(`dispatch.hub.generator`) with this key; the hub seeds it with `--demo`. Kept apart from
`dispatch.hub.app` so the console never imports the hub's services to learn it.
"""

from __future__ import annotations

DEMO_API_KEY = "demo-intake-key-0123456789"
