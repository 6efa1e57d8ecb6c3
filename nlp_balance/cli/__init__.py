"""The ``nlp-balance`` command line: one module per verb, registered by :mod:`nlp_balance.cli.main`."""
