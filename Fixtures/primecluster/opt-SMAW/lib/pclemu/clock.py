"""The node's clock: real time shifted by the node's clock offset.

The lab's nodes share the machine's kernel clock, so a node's clock is made
"wrong" by an offset in /etc/opt/SMAWpclemu/clock-offset (emulator-own; written
by ``lab clock NODE SECONDS``): one line, a signed decimal number of seconds
(``30``, ``-2.5``); absent, empty or malformed = 0.  ``date`` on a lab node
(``SMAWpclemu/bin/pclemu-date``, bound over /usr/bin/date by the lab) and the SF
daemon's log timestamps both read it, so they always agree.  It is read anew
each time: a changed offset applies at once.
"""
import re
import time

from . import fsutil, paths

# Same syntax as pclemu-date and `lab clock` accept.
OFFSET_SYNTAX = re.compile(r"^[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)$")
STAMP_FORMAT = "%Y-%m-%d %H:%M:%S"


def parse_offset(text):
    """Offset in seconds from the file's text (None = absent); 0.0 when not a valid number."""
    if not text:
        return 0.0
    lines = text.splitlines()
    first = lines[0].strip() if lines else ""
    return float(first) if OFFSET_SYNTAX.match(first) else 0.0


def offset():
    """The node's clock offset in seconds (0.0 when there is none)."""
    return parse_offset(fsutil.read_text(paths.p(paths.CLOCK_OFFSET)))


def now():
    """The node's time: seconds since the epoch, real time + offset."""
    return time.time() + offset()


def local_stamp(when=None):
    """``YYYY-MM-DD HH:MM:SS`` in the node's local time zone of ``when`` (default: the node's now)."""
    return time.strftime(STAMP_FORMAT, time.localtime(now() if when is None else when))
