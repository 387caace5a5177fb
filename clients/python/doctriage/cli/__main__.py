import sys

from doctriage.cli import main

sys.exit(main())
