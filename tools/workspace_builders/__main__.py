import sys

from workspace_builders.entry import main

sys.exit(main())
