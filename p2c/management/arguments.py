"""argparse types for the commands' arguments: a bad value is a usage error naming the argument, never a
traceback, and is refused before the command changes anything."""

import argparse


def int_between(low, high):
    """An argparse ``type``: a whole number from ``low`` to ``high``."""

    def parse(text):
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"{value} is out of range: give a number from {low:,} to {high:,}")
        return value

    return parse
