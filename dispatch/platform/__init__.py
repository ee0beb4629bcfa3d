"""The hub's platform feature: catalogues refreshed on a schedule, stream URLs leased."""
