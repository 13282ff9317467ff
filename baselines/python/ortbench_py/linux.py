"""Linux process hygiene shared by the runner and its worker processes."""


def set_pdeathsig() -> None:
    """Asks Linux to kill this process when its parent dies, so nothing is
    orphaned when ortbench (or the runner) is killed. Best effort elsewhere."""
    try:
        import ctypes
        import signal

        ctypes.CDLL(None, use_errno=True).prctl(1, int(signal.SIGKILL))  # PR_SET_PDEATHSIG
    except Exception:
        pass
