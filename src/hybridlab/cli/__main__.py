"""``python -m hybridlab.cli``: the ``hybridlab`` command."""

from hybridlab.__main__ import main

main()
