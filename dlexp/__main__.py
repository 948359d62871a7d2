"""``python -m dlexp …`` runs the command line, as the ``dlexp`` script does."""

from dlexp.cli import main

main()
