"""Shared by the scripts that pass hostile arguments (semlock_cases.py, fuzz_entry_points.py)."""


class Raises:
    """An object whose conversions raise, as a broken user type's would: whichever one a call
    tries, its error must come out unchanged, and nothing else (no panic, no crash)."""

    def __index__(self):
        raise ZeroDivisionError("__index__")

    def __float__(self):
        raise ZeroDivisionError("__float__")

    def __bool__(self):
        raise ZeroDivisionError("__bool__")

    def __len__(self):
        raise ZeroDivisionError("__len__")
