"""Every path the emulator touches, and the one prefix they all go through.

``PCLEMU_ROOT`` (default ``/``) is prepended to every absolute path, so the
emulator can run against a temporary tree (selftest, seed) as well as inside a
lab node namespace, where the node's private trees are mounted on the real paths.
"""
import os

ROOT_ENV = "PCLEMU_ROOT"

# --- real PRIMECLUSTER paths [C] ---------------------------------------------
CLUSTER_CONFIG = "/etc/default/cluster.config"
SF_CONF_DIR = "/etc/opt/SMAW/SMAWsf"
RCSD_CFG = SF_CONF_DIR + "/rcsd.cfg"
OPT_SMAW = "/opt/SMAW"                      # where the commands live on a node
SF_LOG_DIR = "/var/opt/SMAWsf/log"          # the SF daemon's log directory [C]
SF_LOG = SF_LOG_DIR + "/rcsd.log"           # the SF daemon's log [C: path; I: line format]


def agent_cfg(agent):
    """Real path of an SF agent's configuration file, e.g. SA_libvirtgp.cfg [I]."""
    return "%s/%s.cfg" % (SF_CONF_DIR, agent)


# --- emulator-own paths -------------------------------------------------------
EMU_CONF_DIR = "/etc/opt/SMAWpclemu"        # what the real product knows otherwise
EMU_CONF = EMU_CONF_DIR + "/pclemu.conf"
CLOCK_OFFSET = EMU_CONF_DIR + "/clock-offset"   # the node's clock offset in s (lab clock; absent = 0)
EMU_STATE_DIR = "/var/opt/SMAWpclemu"       # runtime state of the emulated product
CF_STATE = EMU_STATE_DIR + "/cf/state.json"
SF_STATE_DIR = EMU_STATE_DIR + "/sf"
SF_LOCK = SF_STATE_DIR + "/sfd.lock"        # held (flock) by a running SF daemon
SF_CTL_LOCK = SF_STATE_DIR + "/ctl.lock"    # serialises sdtool -b / -e / -r
SF_PID = SF_STATE_DIR + "/sfd.pid"
SF_STATE = SF_STATE_DIR + "/state.json"     # the rows sdtool -s prints
SF_STDERR = SF_STATE_DIR + "/sfd.stderr"   # the daemon's raw stdout/stderr (normally empty)
MIGRATE_STATE_DIR = EMU_STATE_DIR + "/sfkvmmigrate"
MIGRATE_SAVED_TIMEOUT = MIGRATE_STATE_DIR + "/saved-cluster-timeout"


def root():
    """The prefix in force (``$PCLEMU_ROOT`` or ``/``)."""
    return os.environ.get(ROOT_ENV) or "/"


def p(path):
    """Map a real absolute path to where it lives under the prefix."""
    if not path.startswith("/"):
        raise ValueError("not an absolute path: %r" % path)
    return os.path.join(root(), path.lstrip("/"))


def opt_smaw_local():
    """The /opt/SMAW tree this very code was loaded from (lib/pclemu/..)."""
    here = os.path.dirname(os.path.realpath(__file__))
    return os.path.dirname(os.path.dirname(here))
