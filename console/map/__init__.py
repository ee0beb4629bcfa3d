"""The map panel (一张图): the county's geometry, cameras, events and people on one map."""
