"""The roll-call panel of the console (视频点名): roster, schedule, live run, coverage,
history and exports (issue 6)."""
