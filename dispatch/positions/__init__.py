"""Grid leaders' last positions, shared from the phone page with their consent (issue 17).

`core` (pure checks of a phone's fix), `messages` (the phone's `position` and
`position_off`, the consoles' `leader_positions` request and the published
`LeaderPositionChanged`), `store` (the `leader_positions` table, migration 0009),
`service` (record, withdraw, list, publish) and `handlers` (the consoles' request).
"""
