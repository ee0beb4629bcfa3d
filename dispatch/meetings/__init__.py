"""Video meetings (issue 13): the county convenes its townships on a Janus SFU.

`media` is the engine's interface (`MeetingMedia`); `janus/` is its implementation.
"""
