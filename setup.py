"""Build hook for the optional compiled helper; all other metadata lives in pyproject.toml.

The extension only speeds up SynonymReplacement. ``optional=True`` lets the install succeed without a
C compiler; nlp_balance then runs the pure-Python loop, which gives the same output.
"""

from setuptools import Extension, setup

setup(
    ext_modules=[
        Extension(
            "nlp_balance.augment._synonym_native",
            ["nlp_balance/augment/_synonym_native.c"],
            optional=True,
        )
    ]
)
