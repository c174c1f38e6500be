"""``python -m hybridlab.cli``: the ``hybridlab`` command."""

from hybridlab.__main__ import main

if __name__ == "__main__":
    main()
