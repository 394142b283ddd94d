"""The SF daemon's log, /var/opt/SMAWsf/log/rcsd.log.

The path is the real product's [C]; its line format is not documented in reach,
so this one is the emulator's choice [I] (kept here only):

    YYYY-MM-DD HH:MM:SS rcsd[PID]: MESSAGE

time = the node's local time shifted by its clock offset (clock.py), PID = the
daemon's pid, MESSAGE one line.  Result messages (sfd.py):
``NODE AGENT: InitWorked``, ``NODE AGENT: InitFailed: REASON``,
``NODE AGENT: TestWorked: REASON``, ``NODE AGENT: TestFailed: REASON`` with
NODE the row's CF node name and AGENT the name sdtool -s shows (``SA_libvirtgp.so``).
The file is appended to (never truncated); directory 0755, file 0644.
"""
import os
import threading

from . import clock, paths

DAEMON_NAME = "rcsd"
_lock = threading.Lock()


def format_line(message, pid=None, when=None):
    """One log line (with its newline); line breaks in ``message`` become blanks."""
    text = " ".join(str(message).splitlines())
    return "%s %s[%d]: %s\n" % (clock.local_stamp(when), DAEMON_NAME,
                                os.getpid() if pid is None else pid, text)


def _makedirs(path, mode):
    """Create ``path`` and missing parents with exactly ``mode`` (whatever the umask)."""
    if os.path.isdir(path):
        return
    _makedirs(os.path.dirname(path), mode)
    try:
        os.mkdir(path)
        os.chmod(path, mode)
    except FileExistsError:
        pass


def write(message):
    """Append one line to rcsd.log (one write call, so lines never interleave)."""
    path = paths.p(paths.SF_LOG)
    data = format_line(message).encode("utf-8", errors="replace")
    with _lock:
        _makedirs(os.path.dirname(path), 0o755)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_APPEND, 0o644)
            os.fchmod(fd, 0o644)                     # a new log: 0644 whatever the umask
        except FileExistsError:
            fd = os.open(path, os.O_WRONLY | os.O_APPEND)
        try:
            os.write(fd, data)
        finally:
            os.close(fd)
