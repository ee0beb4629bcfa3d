"""Camera relays (`hall-relay`, issue 14): their upstreams' states at the hub, published to
the consoles (`messages`, `service`, `web`, `handlers`), and the relay process itself
(`runner`: the site's relay → `streams.relay.server.RelayServer`, states posted to the hub)."""
