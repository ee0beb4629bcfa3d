"""The county console's video meeting view (综治视联网, issue 13)."""
