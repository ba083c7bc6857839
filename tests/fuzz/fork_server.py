"""Runs nanobragg-ext command lines in forked children of one warm interpreter, so a fuzz case does
not pay the interpreter's start and the imports (most of a small run's time). Each child is the
command-line program as the console script runs it (cli.entry), in its own folder, with its own
stdout/stderr files; a crash or a hang only loses the child.

Protocol: one JSON request per stdin line, {"argv", "cwd", "stdout", "stderr", "timeout",
"memory"}; one JSON reply per stdout line, {"rc"}: the exit status, -signal, or null on timeout.
The server itself never renders, so no OpenMP threads exist when it forks.
"""
import difflib  # noqa: F401 (the runs import it lazily; imported once here)
import json
import os
import re  # noqa: F401 (likewise)
import resource
import signal
import sys
import time
import traceback

from nanobragg_ext import cli, console, io, options, outputs, pipeline  # noqa: F401 (imported once, here)


def _child(req) -> None:
    try:
        os.chdir(req["cwd"])
        resource.setrlimit(resource.RLIMIT_AS, (req["memory"], req["memory"]))
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
        for fd, name, mode in ((0, os.devnull, os.O_RDONLY), (1, req["stdout"], os.O_WRONLY | os.O_CREAT),
                               (2, req["stderr"], os.O_WRONLY | os.O_CREAT)):
            f = os.open(name, mode, 0o644)
            os.dup2(f, fd)
            os.close(f)
        signal.signal(signal.SIGINT, signal.default_int_handler)
        sys.argv = ["nanobragg-ext", *req["argv"]]
        cli.entry()
        os._exit(0)
    except SystemExit as e:
        os._exit(e.code if isinstance(e.code, int) else 1)
    except BaseException:
        traceback.print_exc()
        sys.stderr.flush()
        os._exit(1)


def _wait(pid: int, timeout: float):
    end = time.monotonic() + timeout
    delay = 0.001
    while True:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            return -os.WTERMSIG(status) if os.WIFSIGNALED(status) else os.WEXITSTATUS(status)
        if time.monotonic() > end:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            return None
        time.sleep(delay)
        delay = min(delay * 2, 0.02)


def main() -> None:
    for line in sys.stdin:
        req = json.loads(line)
        sys.stdout.flush()
        pid = os.fork()
        if pid == 0:
            _child(req)
        sys.stdout.write(json.dumps({"rc": _wait(pid, req["timeout"])}) + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
