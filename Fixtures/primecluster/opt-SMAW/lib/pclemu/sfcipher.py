"""``sfcipher -c``: encrypt a password for the SF agent files.

Interactive (a terminal): asks twice, like the real command.  Otherwise the
first line of standard input is the password.  Prints the encrypted field.
The cipher is the emulator's own (cipher.py), not the real one.
"""
import getpass
import sys

from . import cipher

USAGE = "usage: sfcipher -c\n"


def read_password():
    """The password from the terminal (asked twice) or stdin's first line."""
    if sys.stdin.isatty():
        first = getpass.getpass("Enter User's Password:")
        second = getpass.getpass("Re-enter User's Password:")
        if first != second:
            raise ValueError("the passwords do not match")
        return first
    return sys.stdin.readline().rstrip("\r\n")


def main(argv):
    """Entry point of /opt/SMAW/bin/sfcipher."""
    if argv != ["-c"]:
        sys.stderr.write(USAGE)
        return 2
    try:
        password = read_password()
        sys.stdout.write(cipher.encrypt(password) + "\n")
    except (ValueError, EOFError) as e:
        sys.stderr.write("sfcipher: %s\n" % (e or "no password"))
        return 1
    return 0
