"""Quality benchmark: does balancing help the small classes? (runner, data variants, renderer)."""
