"""Domain and hub: events, workflow, dispatch, roll calls, store. No Qt here."""
