"""The emulated shutdown agents: initialisation (config check) and test.

SA_libvirtgp / SA_libvirtgr (guest panic / reset through libvirt on the host
OS): init checks the node's line in SA_<agent>.cfg; the test logs in to the
line's host-ip as its user with the lab key and asks
``virsh -c qemu:///system domstate DOMAIN``; TestWorked only on ``running``.

SA_vmchkhost (host OS failover function): init checks the guest's line in
SA_vmchkhost.cfg; the test logs in to host-ip and checks that ``hostname``
is the configured host CF name.  [I: the real agent asks the host cluster;
checking the host's name is the emulator's approximation.]

The password is only checked to decrypt: the lab authenticates with the key.
"""
import subprocess

from . import sfconf

KNOWN = ("SA_libvirtgp", "SA_libvirtgr", "SA_vmchkhost")


class InitFailed(Exception):
    """The agent cannot be initialised for that node."""


def init(agent, node):
    """Check the configuration of (node, agent); return test parameters.

    Raises InitFailed for an unknown agent or a missing/malformed line.
    """
    base = sfconf.agent_base(agent)
    if base not in KNOWN:
        raise InitFailed("unknown shutdown agent %s" % agent)
    try:
        if base == "SA_vmchkhost":
            line = sfconf.vmchkhost_line(node)
            return {"kind": "vmchkhost", "ip": line["ip"], "user": line["user"],
                    "expect": line["host"]}
        line = sfconf.libvirt_line(base, node)
        return {"kind": "libvirt", "ip": line["ip"], "user": line["user"],
                "domain": line["domain"]}
    except sfconf.AgentLineError as e:
        raise InitFailed(str(e))


def ssh_argv(conf, user, ip, command):
    """The agents' login: key, batch mode, strict host key checking."""
    argv = [conf.get("ssh_program"), "-i", conf.path("ssh_key"),
            "-o", "BatchMode=yes",
            "-o", "ConnectTimeout=%s" % conf.get("ssh_connect_timeout"),
            "-o", "UserKnownHostsFile=%s" % conf.path("known_hosts"),
            "-o", "StrictHostKeyChecking=yes"]
    if conf.get("agent_ssh_port") != "22":
        argv += ["-p", conf.get("agent_ssh_port")]
    return argv + ["%s@%s" % (user, ip), command]


def run(argv, timeout, track=None):
    """Run ``argv``; return (exit code or None on timeout, stdout, stderr).

    ``track`` (a set) holds the running Popen so a stopping daemon can kill it.
    """
    try:
        proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, start_new_session=True)
    except OSError as e:
        return 127, "", str(e)
    if track is not None:
        track.add(proc)
    try:
        out, err = proc.communicate(timeout=timeout)
        return proc.returncode, out.decode(errors="replace"), err.decode(errors="replace")
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate()
        return None, out.decode(errors="replace"), err.decode(errors="replace")
    finally:
        if track is not None:
            track.discard(proc)


def test(params, conf, timeout, track=None):
    """Run the agent test; return (worked: bool, reason for the log)."""
    if params["kind"] == "libvirt":
        command = "virsh -c qemu:///system domstate %s" % params["domain"]
        want = "running"
    else:
        command = "hostname"
        want = params["expect"]
    rc, out, err = run(ssh_argv(conf, params["user"], params["ip"], command), timeout, track)
    answer = out.strip()
    if rc is None:
        return False, "%s@%s: no answer within %ss" % (params["user"], params["ip"], timeout)
    if rc == 0 and answer == want:
        return True, "%s@%s: %s" % (params["user"], params["ip"], answer)
    detail = (err.strip() or answer or "exit %s" % rc).splitlines()
    return False, "%s@%s: %s (exit %s)" % (params["user"], params["ip"],
                                          detail[-1] if detail else "", rc)
