"""The one error type of the data layer, raised for input that cannot become a text-classification dataset."""

from __future__ import annotations

__all__ = ["DataValidationError"]


class DataValidationError(ValueError):
    """A file, row or column of the input does not fit a text-classification dataset.

    The message names the file or split, the row (or line) and the value, so one error is enough
    to find the fault. The CLI turns it into one ``error:`` line and exit code 2.
    """
