"""The pydantic configuration the hall's models share, and why.

`FROZEN`: frozen, no unknown fields, and `cache_strings="keys"`. By default pydantic's
JSON parser (jiter) keeps every string value of up to 64 characters it has parsed in a
process-wide cache of 16,384 entries, to hand out the same object when the string comes
again. The values of this protocol (event ids, times, names, texts) are new in nearly
every message, so the cache never hits for them; it only fills. A hub or console that
parses five events a second fills it over its first half hour, about 1.5 MB that looks
like a leak in the soak (issue 16; 5,000 validations kept 611 kB with the default, under 1 kB
with "keys"). Field names repeat and stay cached.

`ADAPTER`: the same for a `TypeAdapter` of a union of messages, whose own configuration
(not its members') decides how its JSON is parsed.
"""

from __future__ import annotations

from pydantic import ConfigDict

FROZEN = ConfigDict(extra="forbid", frozen=True, cache_strings="keys")
ADAPTER = ConfigDict(cache_strings="keys")
