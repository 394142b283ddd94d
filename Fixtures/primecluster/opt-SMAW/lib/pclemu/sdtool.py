"""``sdtool``: control and show the (emulated) shutdown facility.

  -b  start SF (a detached daemon, see sfd.py)
  -e  stop SF
  -s  show the SF rows (layout of the real sdtool -s)
  -r  make the running SF re-read its configuration and re-run init and tests [I]
"""
import contextlib
import fcntl
import os
import signal
import sys
import time

from . import fsutil, paths, sfconf

PROG = "sdtool"
USAGE = "usage: sdtool -b | -e | -s | -r\n"
# Emulator-own messages (the real wording is not known).
MSG_NOT_RUNNING = "sdtool: The shutdown facility is not running.\n"
MSG_ALREADY = "sdtool: The shutdown facility is already running.\n"
MSG_START_FAILED = "sdtool: The shutdown facility failed to start (see %s).\n"

HEADER = ("Cluster Host", "Agent", "SA State", "Shut State", "Test State", "Init State")
DASHES = ("------------", "-----", "--------", "----------", "----------", "----------")
WIDTHS = (16, 18, 14, 12, 14)           # [C] spec §4; last column unpadded


def format_line(cells):
    """One sdtool -s line; every column keeps at least one blank."""
    out = ""
    for cell, width in zip(cells, WIDTHS):
        out += cell.ljust(width - 1) + " "
    return out + cells[-1]


def running_pid():
    """pid of the running SF daemon, or None when SF is not running.

    The daemon holds an exclusive flock on sfd.lock; if we can take it for an
    instant, no daemon runs.
    """
    try:
        fd = os.open(paths.p(paths.SF_LOCK), os.O_RDONLY)
    except FileNotFoundError:
        return None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            text = fsutil.read_text(paths.p(paths.SF_PID)) or ""
            return int(text) if text.strip().isdigit() else -1
        fcntl.flock(fd, fcntl.LOCK_UN)
        return None
    finally:
        os.close(fd)


@contextlib.contextmanager
def control_lock():
    """Serialise sdtool -b / -e / -r on this node."""
    os.makedirs(paths.p(paths.SF_STATE_DIR), exist_ok=True)
    fd = os.open(paths.p(paths.SF_CTL_LOCK), os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def spawn_daemon():
    """Start the daemon fully detached: double fork, setsid, stdin /dev/null.

    The daemon writes its log lines to rcsd.log itself; its raw stdout/stderr
    (normally nothing: a crash's traceback) go to sfd.stderr, so rcsd.log holds
    well-formed lines only.  No descriptor of the caller survives in the daemon,
    so an ssh session that ran ``sdtool -b`` closes at once.
    """
    script = os.path.join(paths.opt_smaw_local(), "SMAWpclemu", "bin", "pclemu-sfd")
    argv = [sys.executable or "/usr/bin/python3", script]
    errpath = paths.p(paths.SF_STDERR)
    pid = os.fork()
    if pid == 0:                                     # first child
        try:
            os.setsid()
            if os.fork() != 0:
                os._exit(0)
            os.chdir("/")                            # grandchild: the daemon
            null = os.open("/dev/null", os.O_RDWR)
            logfd = os.open(errpath, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
            os.dup2(null, 0)
            os.dup2(logfd, 1)
            os.dup2(logfd, 2)
            os.closerange(3, 65536)
            os.execve(argv[0], argv, dict(os.environ))
        finally:
            os._exit(127)
    os.waitpid(pid, 0)


def wait_until(predicate, seconds, step=0.02):
    """Poll ``predicate`` until true or ``seconds`` passed; return its last value."""
    end = time.time() + seconds
    while True:
        value = predicate()
        if value or time.time() > end:
            return value
        time.sleep(step)


def start():
    """sdtool -b."""
    with control_lock():
        if running_pid():
            sys.stderr.write(MSG_ALREADY)
            return 0
        try:
            sfconf.load_rcsd()
        except sfconf.ConfigError as e:
            sys.stderr.write("%s: %s\n" % (PROG, e))
            return 1
        fsutil.remove(paths.p(paths.SF_STATE))
        spawn_daemon()

        def up():
            pid = running_pid()
            state = fsutil.read_json(paths.p(paths.SF_STATE))
            return pid and state and state.get("pid") == pid
        if not wait_until(up, 5.0):
            sys.stderr.write(MSG_START_FAILED % paths.SF_LOG)
            return 1
        return 0


def stop():
    """sdtool -e."""
    with control_lock():
        pid = running_pid()
        if not pid:
            sys.stderr.write(MSG_NOT_RUNNING)
            return 0
        if pid > 0:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGTERM)
            if running_pid() and not wait_until(lambda: not running_pid(), 5.0):
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
                wait_until(lambda: not running_pid(), 2.0)
        if running_pid():
            sys.stderr.write("sdtool: The shutdown facility did not stop.\n")
            return 1
        fsutil.remove(paths.p(paths.SF_STATE))
        fsutil.remove(paths.p(paths.SF_PID))
        return 0


def reread():
    """sdtool -r."""
    with control_lock():
        pid = running_pid()
        if not pid:
            sys.stderr.write(MSG_NOT_RUNNING)
            return 1
        try:
            sfconf.load_rcsd()
        except sfconf.ConfigError as e:
            sys.stderr.write("%s: %s\n" % (PROG, e))
            return 1
        os.kill(pid, signal.SIGHUP)
        return 0


def show():
    """sdtool -s."""
    if not running_pid():
        sys.stderr.write(MSG_NOT_RUNNING)
        return 1
    state = wait_until(lambda: fsutil.read_json(paths.p(paths.SF_STATE)), 0.5) or {}
    lines = [format_line(HEADER), format_line(DASHES)]
    for row in state.get("rows", []):
        lines.append(format_line((row["node"], row["agent"], row["sa"], row["shut"],
                                  row["test"], row["init"])))
    sys.stdout.write("\n".join(lines) + "\n")
    return 0


def main(argv):
    """Entry point of /opt/SMAW/bin/sdtool."""
    actions = {"-b": start, "-e": stop, "-s": show, "-r": reread}
    if len(argv) != 1 or argv[0] not in actions:
        sys.stderr.write(USAGE)
        return 2
    return actions[argv[0]]()
