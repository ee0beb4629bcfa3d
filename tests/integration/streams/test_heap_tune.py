"""glibc's allocator tuned by `streams.heap.tune_allocator()`: two arenas however many
threads, seen from a fresh process through `malloc_info()` (the test process itself
stays as glibc made it)."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

from streams import heap

GLIBC = heap.MALLOPT is not None

PROBE = textwrap.dedent(
    """
    import ctypes, os, sys, tempfile, threading
    from streams import heap

    print("tuned", heap.tune_allocator({} if sys.argv[1] == "tune" else {"HALL_MALLOC_TUNE": "0"}))
    libc = ctypes.CDLL(None)
    libc.malloc.restype = ctypes.c_void_p
    libc.malloc.argtypes = [ctypes.c_size_t]
    libc.free.argtypes = [ctypes.c_void_p]
    start, hold = threading.Barrier(7), threading.Barrier(7)
    def work():
        start.wait()
        p = libc.malloc(1000)
        hold.wait()
        libc.free(p)
    threads = [threading.Thread(target=work) for _ in range(6)]
    for t in threads:
        t.start()
    start.wait()
    hold.wait()
    for t in threads:
        t.join()
    libc.fopen.restype = ctypes.c_void_p
    libc.fopen.argtypes = [ctypes.c_char_p, ctypes.c_char_p]
    libc.malloc_info.argtypes = [ctypes.c_int, ctypes.c_void_p]
    libc.fclose.argtypes = [ctypes.c_void_p]
    path = os.path.join(tempfile.mkdtemp(), "info.xml")
    fp = libc.fopen(path.encode(), b"w")
    libc.malloc_info(0, fp)
    libc.fclose(fp)
    print("arenas", open(path).read().count("<heap nr="))
    """
)


def probe(mode: str) -> dict[str, str]:
    out = subprocess.run(
        [sys.executable, "-c", PROBE, mode],
        capture_output=True, text=True, timeout=60, check=True,
        env={"PATH": "/usr/bin:/bin"},
    )  # fmt: skip
    return dict(line.split(" ", 1) for line in out.stdout.splitlines())


def test_the_environment_or_an_ab_keeps_glibc_as_it_is() -> None:
    assert heap.tuning_wanted({})
    assert heap.tuning_wanted({heap.TUNE_ENV: "1"})
    assert not heap.tuning_wanted({heap.TUNE_ENV: " 0"})
    assert not heap.tuning_wanted({"MALLOC_ARENA_MAX": "4"})
    assert not heap.tuning_wanted({"GLIBC_TUNABLES": "glibc.malloc.arena_max=4"})
    assert heap.tune_allocator({heap.TUNE_ENV: "0"}) == {}


@pytest.mark.skipif(not GLIBC, reason="glibc's allocator only")
def test_new_threads_share_two_arenas() -> None:
    tuned = probe("tune")
    assert tuned["tuned"] == str({"arena_max": heap.ARENA_MAX})
    assert int(tuned["arenas"]) <= heap.ARENA_MAX
    assert int(probe("glibc")["arenas"]) > heap.ARENA_MAX  # one per thread
