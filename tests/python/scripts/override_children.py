"""Reports whether the parent and a child of each start method import our `_multiprocessing`
(for test_override.py)."""

import json
import multiprocessing

from each_start_method import in_a_child_of_each


def which():
    import _multiprocessing

    return bool(getattr(_multiprocessing, "__multiprocessing_rs__", False))


if __name__ == "__main__":
    parent = which()
    print(json.dumps({"parent": parent, **in_a_child_of_each(multiprocessing.get_all_start_methods(), which)}))
