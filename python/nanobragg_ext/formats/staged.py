"""A file written under a temporary name in its own folder and put in place only by commit(), so
that a run writing several files leaves none of them when one fails."""
from __future__ import annotations

import os


class Staged:
    """The temporary of path (``.tmp`` to write to); commit() renames it to path, discard() removes it."""

    def __init__(self, path: str, suffix: str = ""):
        from ..io import create_temporary

        self.path = path
        fd, self.tmp = create_temporary(os.path.dirname(os.path.abspath(path)), suffix)
        os.close(fd)

    def commit(self) -> None:
        os.replace(self.tmp, self.path)

    def discard(self) -> None:
        if os.path.exists(self.tmp):
            os.unlink(self.tmp)


def commit_all(staged) -> None:
    """Put every staged file in place (in order)."""
    for s in staged:
        s.commit()


def discard_all(staged) -> None:
    for s in staged:
        s.discard()


def write_with(staged, write):
    """Run write() (the run's other outputs), then put every staged file in place; on any error
    remove the staged files and re-raise. Returns what write() returned."""
    try:
        result = write()
    except BaseException:
        discard_all(staged)
        raise
    commit_all(staged)
    return result
