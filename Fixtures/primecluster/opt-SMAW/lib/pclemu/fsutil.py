"""Small file helpers: atomic replacement, reading, JSON state."""
import json
import os
import tempfile


def read_text(path):
    """Return the file's text, or None when it does not exist."""
    try:
        with open(path, "r", encoding="utf-8", errors="surrogateescape") as f:
            return f.read()
    except FileNotFoundError:
        return None


def atomic_write(path, data, mode=None, sync=True):
    """Replace ``path`` with ``data`` atomically.

    A temporary file is written in the same directory, flushed (and fsync'ed
    when ``sync``), given the old file's mode and owner (or ``mode`` for a new
    file, 0644 by default; an explicit ``mode`` always wins), then renamed over
    the target.
    """
    if isinstance(data, str):
        data = data.encode("utf-8", errors="surrogateescape")
    directory = os.path.dirname(path) or "."
    os.makedirs(directory, exist_ok=True)
    owner = None
    try:
        st = os.stat(path)
        owner = (st.st_uid, st.st_gid)
        if mode is None:
            mode = st.st_mode & 0o7777
    except FileNotFoundError:
        pass
    if mode is None:
        mode = 0o644
    fd, tmp = tempfile.mkstemp(prefix="." + os.path.basename(path) + ".", dir=directory)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fchmod(f.fileno(), mode)
            if owner is not None:
                try:
                    os.fchown(f.fileno(), *owner)
                except PermissionError:
                    pass
            if sync:
                os.fsync(f.fileno())
        os.rename(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    if sync:
        try:
            dfd = os.open(directory, os.O_RDONLY)
            try:
                os.fsync(dfd)
            finally:
                os.close(dfd)
        except OSError:
            pass


def read_json(path):
    """Load JSON from ``path``; None when missing or unreadable/partial."""
    text = read_text(path)
    if text is None:
        return None
    try:
        return json.loads(text)
    except ValueError:
        return None


def write_json(path, obj, sync=True):
    """Atomically write ``obj`` as JSON."""
    atomic_write(path, json.dumps(obj, indent=1, sort_keys=True) + "\n", sync=sync)


def remove(path):
    """Unlink ``path`` if it exists."""
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass
