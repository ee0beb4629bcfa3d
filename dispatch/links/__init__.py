"""Personal links with a PIN, a lockout and a cookie, shared by every page that
people outside the hall open: the grid leader's phone page (`dispatch.tasks.web`,
`/m/{token}`), the mediation join links (`dispatch.mediation`, `/v/{token}`) and the
duty-station links (`dispatch.rollcall`, `/s/{token}`).

Rooms: `core` (pure: tokens, PIN hashing and checks, the lockout rule, the link
states, the stateless link cookie) and `web` (the HTTP side: setting the cookie
scoped to the link, the refusal texts). Each feature keeps its own store rows; the
rules live here once.
"""
