"""pclemu: an emulator of the PRIMECLUSTER commands kvmmigrate talks to.

The emulator stands in for Fujitsu PRIMECLUSTER (CF, the shutdown facility and
sfkvmmigrate) in the kvmmigrate lab.  It keeps the real product's file paths and
formats; everything that is the emulator's own (state under /var/opt/SMAWpclemu,
configuration under /etc/opt/SMAWpclemu, messages of its own) is documented in
Fixtures/primecluster/README.md.  It never reads kvmmigrate's state.
"""
