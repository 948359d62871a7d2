"""``python -m dlexp.cli …`` runs the command line, as the ``dlexp`` script does."""

from dlexp.cli import main

main()
