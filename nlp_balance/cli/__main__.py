"""``python -m nlp_balance.cli``: the ``nlp-balance`` command."""

import sys

from nlp_balance.cli.main import main

sys.exit(main())
