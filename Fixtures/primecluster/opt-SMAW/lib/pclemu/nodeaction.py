"""pclemu-node: the per-node edits sfkvmmigrate makes (emulator-own helper).

The real sfkvmmigrate reaches the other nodes through CF remote execution; the
emulator's sfkvmmigrate runs this helper locally and, on peers, over ssh.

  check                              is the node reachable and emulated?
  set-timeout SECONDS                save CLUSTER_TIMEOUT (first time only), set it
  restore-timeout                    put back what set-timeout saved (10 if nothing)
  set-guest-host GUEST IP [HOSTCF]   rewrite GUEST's host-ip in SA_libvirtgp/gr.cfg,
                                     and host CF name + ip in SA_vmchkhost.cfg if present
"""
import os
import sys

from . import cfconfig, fsutil, paths, sfconf

USAGE = "usage: pclemu-node check | set-timeout SECONDS | restore-timeout | " \
        "set-guest-host GUEST IP [HOSTCF]\n"
ABSENT = "absent"


def _config_text():
    text = fsutil.read_text(paths.p(paths.CLUSTER_CONFIG))
    if text is None:
        raise RuntimeError("cannot open %s" % paths.CLUSTER_CONFIG)
    return text


def set_timeout(seconds):
    """Save the current CLUSTER_TIMEOUT (unless already saved) and set ``seconds``.

    [I] Keeping the first saved value makes a repeated -p harmless.
    """
    text = _config_text()
    saved = paths.p(paths.MIGRATE_SAVED_TIMEOUT)
    if fsutil.read_text(saved) is None:
        fsutil.atomic_write(saved, (cfconfig.get(text, cfconfig.TIMEOUT_NAME) or ABSENT) + "\n")
    fsutil.atomic_write(paths.p(paths.CLUSTER_CONFIG),
                        cfconfig.set_value(text, cfconfig.TIMEOUT_NAME, seconds))


def restore_timeout():
    """Restore the saved CLUSTER_TIMEOUT; "10" when nothing was saved.

    [I] When the line was absent before -p, it is removed again (absent = 10).
    """
    text = _config_text()
    saved_path = paths.p(paths.MIGRATE_SAVED_TIMEOUT)
    saved = (fsutil.read_text(saved_path) or cfconfig.DEFAULT_TIMEOUT).strip()
    if saved == ABSENT:
        new = cfconfig.remove(text, cfconfig.TIMEOUT_NAME)
    else:
        new = cfconfig.set_value(text, cfconfig.TIMEOUT_NAME, saved)
    if new != text:
        fsutil.atomic_write(paths.p(paths.CLUSTER_CONFIG), new)
    fsutil.remove(saved_path)


def _rewrite(agent, guest, changes):
    """Rewrite fields of ``guest``'s line in ``agent``.cfg atomically.

    ``changes`` maps field index → new value.  Other lines are kept verbatim.
    """
    path = paths.p(paths.agent_cfg(agent))
    text = fsutil.read_text(path)
    if text is None:
        raise RuntimeError("cannot open %s" % paths.agent_cfg(agent))
    out, found = [], 0
    for line in text.splitlines(True):
        fields = line.split()
        if fields and fields[0] == guest and not fields[0].startswith("#"):
            if len(fields) != 5:
                raise RuntimeError("%s: malformed line for %s" % (paths.agent_cfg(agent), guest))
            for index, value in changes.items():
                fields[index] = value
            line = " ".join(fields) + "\n"
            found += 1
        out.append(line)
    if not found:
        raise RuntimeError("%s: no line for %s" % (paths.agent_cfg(agent), guest))
    new = "".join(out)
    if new != text:
        fsutil.atomic_write(path, new)


def set_guest_host(guest, ip, host_cfname=None):
    """Point ``guest``'s agent lines at host ``ip`` (and ``host_cfname``)."""
    sfconf.check_ip(ip)
    for agent in ("SA_libvirtgp", "SA_libvirtgr"):
        _rewrite(agent, guest, {2: ip})
    if os.path.exists(paths.p(paths.agent_cfg("SA_vmchkhost"))):
        if not host_cfname:
            raise RuntimeError("SA_vmchkhost.cfg present but no host CF name given")
        _rewrite("SA_vmchkhost", guest, {1: host_cfname, 2: ip})


def main(argv):
    """Entry point of pclemu-node."""
    try:
        if argv == ["check"]:
            return 0
        if len(argv) == 2 and argv[0] == "set-timeout" and argv[1].isdigit():
            set_timeout(argv[1])
            return 0
        if argv == ["restore-timeout"]:
            restore_timeout()
            return 0
        if len(argv) in (3, 4) and argv[0] == "set-guest-host":
            set_guest_host(*argv[1:])
            return 0
    except (RuntimeError, sfconf.AgentLineError, OSError) as e:
        sys.stderr.write("pclemu-node: %s\n" % e)
        return 1
    sys.stderr.write(USAGE)
    return 2
