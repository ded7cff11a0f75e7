import sys

from workspace_builders.cli import main

sys.exit(main())
