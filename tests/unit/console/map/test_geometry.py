import pytest

from console.map.geometry import ClusterCache, centroid, cluster, convex_hull, inside

SQUARE = [(0.0, 0.0), (10.0, 0.0), (10.0, 10.0), (0.0, 10.0)]


def test_centroid_of_a_square_and_a_closed_ring() -> None:
    assert centroid(SQUARE) == pytest.approx((5.0, 5.0))
    assert centroid([*SQUARE, SQUARE[0]]) == pytest.approx((5.0, 5.0))
    assert centroid([(1.0, 1.0), (3.0, 3.0)]) == pytest.approx((2.0, 2.0))  # no area


def test_hull_and_inside() -> None:
    hull = convex_hull([*SQUARE, (5.0, 5.0), (2.0, 8.0)])
    assert sorted(hull) == sorted(SQUARE)
    assert inside(SQUARE, (5.0, 5.0))
    assert not inside(SQUARE, (15.0, 5.0))


def test_cluster_buckets_and_worst_colour() -> None:
    items = [("a", (1.0, 1.0), 2), ("b", (2.0, 2.0), 0), ("c", (55.0, 5.0), 1)]
    got = sorted(cluster(items, 10.0), key=lambda c: c.x)
    assert [c.members for c in got] == [("a", "b"), ("c",)]
    assert got[0].rank == 0  # a red among them makes the cluster red
    assert (got[0].x, got[0].y) == pytest.approx((1.5, 1.5))
    assert len(cluster(items, 100.0)) == 1


def test_cache_per_level_and_version() -> None:
    cache: ClusterCache[str] = ClusterCache()
    calls = []

    def items() -> list[tuple[str, tuple[float, float], int]]:
        calls.append(1)
        return [("a", (1.0, 1.0), 2)]

    first = cache.get(1, 3, 10.0, items())
    assert cache.get(1, 3, 10.0, []) is first  # same version and level: cached
    assert cache.get(2, 3, 10.0, []) == []  # a new version clears the cache
