"""The child of test_semlock_interop.py: evaluates the Python lines its parent sends on stdin
(JSON strings) and answers each with one JSON line, {"value": ...} or {"error": [type, message]}.
"""

import _multiprocessing
import ast
import json
import sys
import time  # noqa: F401 (the parent's code uses it)

SemLock = _multiprocessing.SemLock
sem_unlink = _multiprocessing.sem_unlink
ns = dict(globals())


def run(code):
    # Runs the statements; the value of the last one if it is an expression.
    tree = ast.parse(code)
    last = tree.body.pop() if tree.body and isinstance(tree.body[-1], ast.Expr) else None
    exec(compile(tree, "<parent>", "exec"), ns)
    if last is not None:
        return eval(compile(ast.Expression(last.value), "<parent>", "eval"), ns)


for line in sys.stdin:
    code = json.loads(line)
    try:
        answer = {"value": run(code)}
    except BaseException as e:
        answer = {"error": [type(e).__name__, str(e)]}
    print(json.dumps(answer), flush=True)
