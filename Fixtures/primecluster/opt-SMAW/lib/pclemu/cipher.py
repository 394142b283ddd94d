"""The emulator's stand-in for the ``sfcipher -c`` password encryption.

NOT the real PRIMECLUSTER cipher (which is not public): the password's UTF-8
bytes are XOR-ed with a fixed key and written as upper-case hex.  It is
reversible so the emulated agents can check that a configured password
decrypts.  Passwords are never printed or logged by the emulator.
"""
import binascii

_KEY = b"pclemu:not-the-real-sfcipher"


def encrypt(password):
    """Encrypt a password into the agent files' password field."""
    raw = password.encode("utf-8")
    if not raw:
        raise ValueError("empty password")
    return binascii.hexlify(bytes(b ^ _KEY[i % len(_KEY)] for i, b in enumerate(raw))).decode().upper()


def decrypt(field):
    """Decrypt a password field; raise ValueError when it is not one."""
    if not field or len(field) % 2:
        raise ValueError("not an encrypted password")
    try:
        raw = binascii.unhexlify(field)
    except (binascii.Error, ValueError):
        raise ValueError("not an encrypted password")
    text = bytes(b ^ _KEY[i % len(_KEY)] for i, b in enumerate(raw)).decode("utf-8", "strict") \
        if raw else ""
    if not text or not text.isprintable():
        raise ValueError("not an encrypted password")
    return text
