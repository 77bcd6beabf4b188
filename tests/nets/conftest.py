"""Shared settings for the network tests: torch and BLAS single-threaded for the session (the
nets are tiny; thread start-up and contention on a busy 2-core machine make two threads many
times slower than one), restored afterwards."""
import contextlib

import pytest

try:
    import torch
except ImportError:  # torch is optional; the tests importorskip it themselves
    torch = None


def pytest_configure(config):
    # torch's forward-mode AD scripts its decompositions with torch.jit.script on first use and
    # warns about that deprecation from inside torch; nothing in fpsolve calls torch.jit
    config.addinivalue_line(
        "filterwarnings", "ignore:`torch.jit.script` is deprecated:DeprecationWarning")


@pytest.fixture(autouse=True, scope="session")
def _single_thread():
    try:
        from threadpoolctl import threadpool_limits
        blas = threadpool_limits(1)
    except ImportError:
        blas = contextlib.nullcontext()
    with blas:
        if torch is None:
            yield
            return
        old = torch.get_num_threads()
        torch.set_num_threads(1)
        yield
        torch.set_num_threads(old)
