"""Differential parity of `_multiprocessing.SemLock`, `sem_unlink` and `flags`: every case below
runs in one interpreter on the stock C module and in another under our override, and the two
results (return values, or the exception's type name and message, word for word) must be equal.

One scenario run per interpreter and side evaluates every case; the comparison is then
parametrized by (version, case), so a difference names the case and shows both outcomes.
Values that legitimately differ between runs (semaphore names, handles, addresses) are
normalised inside the scenario before they are reported.
"""

import functools
import json
import textwrap
from pathlib import Path

import pytest

from conftest import SEM_PREFIX, interpreter, run_json, run_json_both, script

pytestmark = pytest.mark.usefixtures("no_leftover_semaphores")

# (name, code): an expression, or statements that set R. Helpers: see scripts/semlock_cases.py.
CASES = []


def case(name, code):
    CASES.append((name, textwrap.dedent(code).strip()))


def case_each(name, code, values):
    """One case per `(label, expression)` of `values`: `name=label`, the expression in place
    of `{expr}` in `code`."""
    for label, expr in values:
        case(f"{name}={label}", code.format(expr=expr))


def self_labelled(*exprs):
    """`(label, expression)` pairs for values whose case label is the expression itself."""
    return [(expr, expr) for expr in exprs]


# Values that several arguments are tried with (each table below adds its own).
#: What is no integer, for the arguments converted with `__index__`.
NOT_INTS = [("str", "'1'"), ("float", "1.0"), ("none", "None")]
#: What an argument taken for its truth (`unlink`, `block`) is tried with.
TRUTH_VALUES = [
    ("str", "'x'"),
    ("empty_str", "''"),
    ("empty_list", "[]"),
    ("list", "[0]"),
    ("minus1", "-1"),
    ("index0", "Index(0)"),
    ("raises", "Raises()"),
    *self_labelled("2", "2**100", "True", "False"),
]
#: Names no semaphore can have: wrong types, and strings no platform takes.
BAD_NAMES = [
    ("int", "1"),
    ("surrogate", "N() + '\\udc80'"),
    ("empty", "''"),
    ("slash", "'/'"),
    ("inner_slash", "N() + '/x'"),
    ("too_long", "'/' + 'x' * 300"),
    ("bytearray", "bytearray(b'/x')"),
]
#: What a lookup by name (`_rebuild`, `sem_unlink`) is tried with: a name not in use, bytes, a NUL.
LOOKUP_NAMES = [("missing", "N()"), ("bytes", "b'/x'"), ("nul", "N() + '\\0'"), *BAD_NAMES]
#: SemLock's methods: the small ones (no arguments), and all of them.
SMALL_METHODS = ["_count", "_is_mine", "_get_value", "_is_zero", "_after_fork"]
METHODS = ["acquire", "release", "__enter__", "__exit__", *SMALL_METHODS]

# --- constructor: arguments -------------------------------------------------------------------
case("new.positional", "info(SemLock(1, 2, 3, N(), True))")
case("new.keywords", "info(SemLock(kind=0, value=1, maxvalue=1, name=N(), unlink=True))")
case("new.keywords_any_order", "info(SemLock(unlink=True, name=N(), maxvalue=5, value=2, kind=1))")
case("new.mixed", "info(SemLock(1, 1, maxvalue=1, name=N(), unlink=True))")
case("new.no_args", "SemLock()")
case("new.only_kind", "SemLock(1)")
case("new.missing_name", "SemLock(1, 1, 1)")
case("new.missing_unlink", "SemLock(1, 1, 1, N())")
case("new.missing_kind_by_keyword", "SemLock(value=1, maxvalue=1, name=N(), unlink=True)")
case("new.too_many", "SemLock(1, 1, 1, N(), True, 0)")
case("new.too_many_with_keyword", "SemLock(1, 1, 1, N(), True, extra=1)")
case("new.unknown_keyword", "SemLock(1, 1, 1, N(), bogus=True)")
case("new.misspelt_keyword", "SemLock(kind=1, value=1, maxvalue=1, name=N(), unlnk=True)")
case("new.duplicate_keyword", "SemLock(1, 1, 1, N(), kind=1)")
case("new.duplicate_keyword_first", "SemLock(1, kind=1, maxvalue=1, name=N(), unlink=True)")
case("new.non_str_keyword", "SemLock(1, 1, 1, N(), **{1: True})")
case("new.empty_kwargs", "info(SemLock(1, 1, 1, N(), True, **{}))")
case_each(
    "new.kind",
    "info(SemLock({expr}, 1, 1, N(), True))",
    [
        *NOT_INTS,
        ("bool", "True"),
        ("index", "Index(1)"),
        ("index_raises", "Raises()"),
        ("minus1", "-1"),
        ("index_2**40", "Index(2**40)"),
        *self_labelled("2", "2**31", "-2**31-1", "2**64", "2**100"),
    ],
)
case_each(
    "new.value",
    "info(SemLock(1, {expr}, 1, N(), True))",
    [
        ("str", "'1'"),
        ("float", "1.5"),
        ("none", "None"),
        ("bytes", "b'1'"),
        ("index", "Index(3)"),
        ("zero", "0"),
        ("minus1", "-1"),
        *self_labelled("-2**31", "SEM_VALUE_MAX", "2**31", "2**100"),
    ],
)
case_each(
    "new.maxvalue",
    "info(SemLock(1, 1, {expr}, N(), True))",
    [
        *NOT_INTS,
        ("zero", "0"),
        ("minus5", "-5"),
        *self_labelled("2**31", "SEM_VALUE_MAX"),
    ],
)
case_each(
    "new.name",
    "info(SemLock(1, 1, 1, {expr}, True))",
    [
        ("bytes", "b'/mprs-x'"),
        ("none", "None"),
        ("nul", "N() + '\\0x'"),
        ("str_subclass", "Str(N())"),
        *BAD_NAMES,
    ],
)
case("new.name_kept", "s = named(); R = [s.name, type(s.name).__name__, info(s)]")
case("new.name_unicode", "s = SemLock(1, 1, 1, N('\\u00e9\\u4e2d'), False); R = info(s)")
case(
    "new.name_without_slash",
    "n = N(); s = SemLock(1, 1, 1, n[1:], False); R = [info(s), info(SemLock._rebuild(0, 1, 1, n))]",
)
case(
    "new.name_exists",
    """
    n = N(); a = SemLock(1, 1, 1, n, False)
    R = [E(lambda: SemLock(1, 1, 1, n, False)), E(lambda: SemLock(0, 1, 1, n, True)),
         info(SemLock._rebuild(0, 1, 1, n))]
""",
)
case(
    "new.unlinked_name_reusable",
    "n = N(); a = SemLock(1, 1, 1, n, True); R = [info(a), info(SemLock(1, 1, 1, n, True))]",
)
case_each(
    "new.unlink",
    "s = SemLock(1, 1, 1, N(), {expr}); R = [s.name is None, info(s)]",
    [("0", "0"), ("1", "1"), ("float", "1.0"), ("none", "None"), *TRUTH_VALUES],
)
case("new.order.kind_before_value", "SemLock('x', 'y', 1, N(), True)")
case("new.order.value_before_kind_check", "SemLock(5, 'y', 1, N(), True)")
case("new.order.name_before_kind_check", "SemLock(5, 1, 1, b'x', True)")
case("new.order.unlink_before_kind_check", "SemLock(5, 1, 1, N(), 'x')")
case("new.order.kind_check_before_open", "SemLock(2, -1, 1, N(), True)")
case(
    "new.order.kind_check_before_exists",
    "n = N(); a = SemLock(1, 1, 1, n, False); R = E(lambda: SemLock(7, 1, 1, n, False))",
)

# --- acquire -----------------------------------------------------------------------------------
case("acquire.default", "s = mk(); R = [s.acquire(), info(s)]")
case("acquire.true_none", "s = mk(); R = [s.acquire(True, None), info(s)]")
case("acquire.false", "s = mk(); R = [s.acquire(False), s.acquire(False), info(s)]")
case("acquire.keyword_block", "s = mk(0, 0); R = [s.acquire(block=False), info(s)]")
case("acquire.keyword_timeout", "s = mk(1, 0); R = [s.acquire(timeout=0), info(s)]")
case(
    "acquire.keywords_both", "s = mk(1, 0); R = [s.acquire(block=True, timeout=0.01), s.acquire(timeout=0, block=True)]"
)
case("acquire.positional_and_keyword", "s = mk(1, 0); R = s.acquire(True, timeout=0)")
case("acquire.too_many", "mk().acquire(True, 1, 2)")
case("acquire.too_many_with_keyword", "mk().acquire(True, 1, block=1)")
case("acquire.duplicate_block", "mk().acquire(True, block=True)")
case("acquire.duplicate_timeout", "mk().acquire(True, None, timeout=1)")
case("acquire.unknown_keyword", "mk().acquire(blocking=True)")
case("acquire.unknown_keyword_after_positional", "mk().acquire(True, foo=1)")
case("acquire.unknown_and_known_keywords", "mk().acquire(timeout=1, foo=1)")
case("acquire.non_str_keyword", "mk().acquire(**{1: 2})")
case("acquire.empty_kwargs", "s = mk(); R = [s.acquire(**{}), info(s)]")
case_each(
    "acquire.block",
    "s = mk(1, 0); R = [blocks(s, {expr}), info(s)]",
    [*self_labelled("None", "2.5", "0.0"), *TRUTH_VALUES],
)
NOT_TIMEOUTS = [("str", "'x'"), ("bytes", "b'1'"), ("list", "[]"), ("complex", "1j"), ("raises", "Raises()")]
case_each("acquire.timeout", "s = mk(); R = [E(lambda: s.acquire(timeout={expr})), info(s)]", NOT_TIMEOUTS)
case_each("acquire.nonblocking_timeout", "s = mk(); R = [E(lambda: s.acquire(False, {expr})), info(s)]", NOT_TIMEOUTS)
case_each(
    "acquire.owned_rlock_timeout",
    "r = mk(0); r.acquire(); R = [E(lambda: r.acquire(timeout={expr})), info(r)]",
    NOT_TIMEOUTS,
)
case_each(
    "acquire.zero_timeout",
    "s = mk(1, 0); R = [quick(lambda: s.acquire(True, {expr})), info(s)]",
    [
        ("int1", "1"),
        ("index", "Index(0)"),
        ("fraction", "Fraction(1, 50)"),
        ("decimal", "Decimal('0.02')"),
        ("minus1", "-1"),
        ("minus_huge", "-1e300"),
        ("minus_inf", "float('-inf')"),
        ("nan", "float('nan')"),
        ("inf", "float('inf')"),
        *self_labelled("0", "False", "0.02", "1e300", "2**63", "2**70"),
    ],
)
case(
    "acquire.available_with_huge_timeout",
    "s = mk(); R = [s.acquire(True, float('inf')), s.acquire(True, float('nan')), info(s)]",
)
case(
    "acquire.negative_timeout_at_once",
    "s = mk(1, 0); R = [quick(lambda: s.acquire(True, -1)), quick(lambda: s.acquire(timeout=-0.5))]",
)
case("acquire.nonblocking_ignores_timeout", "s = mk(1, 0); R = quick(lambda: s.acquire(False, 5))")
case(
    "acquire.timed_out_waits",
    """
    s = mk(1, 0); t0 = time.monotonic(); r = s.acquire(True, 0.05)
    R = [r, time.monotonic() - t0 >= 0.045, info(s)]
""",
)
case(
    "acquire.rlock_recursive",
    """
    r = mk(0)
    R = [r.acquire(), r.acquire(), r.acquire(False), r.acquire(True, 0), r.acquire(timeout=-1), info(r)]
""",
)
case("acquire.lock_not_recursive", "s = mk(); R = [s.acquire(), s.acquire(False), s.acquire(True, 0), info(s)]")
case(
    "acquire.semaphore_units",
    """
    s = SemLock(1, 3, 3, N(), True)
    R = [s.acquire(), s.acquire(False), s.acquire(True, 0), s.acquire(False), info(s)]
""",
)
case("acquire.rlock_value_zero", "r = mk(0, 0); R = [r.acquire(False), r.acquire(True, 0.01), info(r)]")
case(
    "acquire.rlock_held_by_other_thread",
    """
    r = mk(0)
    with Holder(r) as h:
        R = [h.got, r.acquire(False), r._is_mine(), r._count(), E(r.release), h.run(r._is_mine),
             h.run(r._count)]
    R += [h.released, r.acquire(False), info(r)]
""",
)
case("acquire.lock_is_mine_per_thread", "s = mk(); R = [s.acquire(), s._is_mine(), T(s._is_mine), T(s._count)]")
case(
    "acquire.release_wakes_waiter",
    """
    s = mk(1, 0)
    threading.Timer(0.05, s.release).start()
    t0 = time.monotonic(); r = s.acquire(True, 5)
    R = [r, time.monotonic() - t0 < 4, info(s)]
""",
)

# --- release -----------------------------------------------------------------------------------
case("release.lock_not_held", "s = mk(); R = [E(s.release), info(s)]")
case("release.lock_held", "s = mk(); s.acquire(); R = [s.release(), info(s)]")
case("release.positional_arg", "s = mk(); s.acquire(); R = [E(lambda: s.release(1)), info(s)]")
case("release.keyword_arg", "s = mk(); s.acquire(); R = [E(lambda: s.release(x=1)), info(s)]")
case("release.empty_kwargs", "s = mk(); s.acquire(); R = [s.release(**{}), info(s)]")
case("release.rlock_not_owned", "r = mk(0); R = [E(r.release), info(r)]")
case(
    "release.rlock_recursive",
    """
    r = mk(0); r.acquire(); r.acquire()
    R = [r.release(), info(r), r.release(), info(r), E(r.release), info(r)]
""",
)
case("release.semaphore_by_other_thread", "s = mk(); s.acquire(); R = [T(s.release), info(s)]")
case(
    "release.semaphore_negative_count",
    "s = SemLock(1, 0, 5, N(), True); R = [s.release(), s.release(), info(s), s.acquire(), info(s)]",
)
case(
    "release.bounded",
    "s = SemLock(1, 2, 2, N(), True); R = [E(s.release), s.acquire(), s.release(), E(s.release), info(s)]",
)
case("release.at_SEM_VALUE_MAX", "s = SemLock(1, SEM_VALUE_MAX, SEM_VALUE_MAX, N(), True); R = [E(s.release), info(s)]")
case(
    "release.value_above_maxvalue",
    "s = SemLock(1, 5, 1, N(), True); R = [E(s.release), s.acquire(), E(s.release), info(s)]",
)
case(
    "release.negative_maxvalue",
    "s = SemLock(1, 1, -5, N(), True); R = [E(s.release), s.acquire(), E(s.release), info(s)]",
)
case("release.rlock_after_fork", "r = mk(0); r.acquire(); r._after_fork(); R = [E(r.release), info(r)]")
case(
    "release.rlock_twice_value",
    "r = SemLock(0, 2, 2, N(), True); R = [r.acquire(), r.release(), E(r.release), info(r)]",
)

# --- unbound calls -------------------------------------------------------------------------------
for method in METHODS:
    case(f"unbound.{method}.no_self", f"SemLock.{method}()")
    case(f"unbound.{method}.wrong_self", f"SemLock.{method}(1)")
case("unbound.acquire.with_self", "s = mk(); R = [SemLock.acquire(s, False), SemLock.release(s), info(s)]")

# --- __enter__ / __exit__ ------------------------------------------------------------------------
case("enter.returns", "s = mk(); R = [s.__enter__(), info(s)]")
case("enter.rlock_recursive", "r = mk(0); R = [r.__enter__(), r.__enter__(), info(r)]")
case("enter.positional_arg", "mk().__enter__(1)")
case("enter.keyword_arg", "mk().__enter__(block=False)")
for n in range(5):
    case(f"exit.{n}_args", f"s = mk(); s.acquire(); R = [E(lambda: s.__exit__(*[None] * {n})), info(s)]")
case("exit.any_values", "s = mk(); s.acquire(); R = [s.__exit__(ValueError, ValueError('x'), 3), info(s)]")
case("exit.keyword", "s = mk(); s.acquire(); R = [E(lambda: s.__exit__(exc_type=None)), info(s)]")
case("exit.lock_not_held", "s = mk(); R = [E(s.__exit__), E(lambda: s.__exit__(None, None, None)), info(s)]")
case("exit.rlock_not_owned", "r = mk(0); R = [E(lambda: r.__exit__(None, None, None)), info(r)]")
case(
    "with.statement",
    """
    s = mk(); out = []
    with s as entered:
        out.append([entered, info(s)])
    try:
        with s:
            out.append(info(s))
            raise KeyError("inside")
    except KeyError as e:
        out.append(exc(e))
    R = out + [info(s)]
""",
)
case(
    "with.rlock_nested",
    """
    r = mk(0); out = []
    with r:
        with r:
            out.append(info(r))
        out.append(info(r))
    R = out + [info(r)]
""",
)

# --- the small methods -------------------------------------------------------------------------
for method in SMALL_METHODS:
    case(f"{method}.returns", f"s = mk(); R = [s.{method}(), s.acquire(), s.{method}(), info(s)]")
    case(f"{method}.positional_arg", f"mk().{method}(1)")
    case(f"{method}.keyword_arg", f"mk().{method}(x=1)")
    case(f"{method}.empty_kwargs", f"mk().{method}(**{{}})")
case(
    "_count.per_object_across_threads",
    "s = SemLock(1, 2, 2, N(), True); R = [T(s.acquire), s._count(), s.acquire(), s._count(), T(s.release), s._count()]",
)
case(
    "_is_mine.after_other_thread_release",
    "s = SemLock(1, 2, 2, N(), True); R = [s.acquire(), T(s.release), s._is_mine(), s._count()]",
)
case(
    "_get_value.counts_units",
    "s = SemLock(1, 3, 5, N(), True); R = [s._get_value(), s.acquire(), s._get_value(), s.release(), s.release(), s._get_value(), s._is_zero()]",
)
case("_is_zero.zero", "s = mk(1, 0); R = [s._is_zero(), s._get_value(), s.release(), s._is_zero()]")
case(
    "_after_fork.semaphore",
    "s = SemLock(1, 2, 2, N(), True); R = [s.acquire(), s.acquire(), s._after_fork(), info(s), s.release(), info(s)]",
)
case(
    "_after_fork.rlock",
    "r = mk(0); R = [r.acquire(), r.acquire(), r._after_fork(), info(r), r.acquire(False), info(r)]",
)

# --- _rebuild ---------------------------------------------------------------------------------
case(
    "rebuild.by_name",
    """
    a = named(); r = SemLock._rebuild(0, 1, 1, a.name)
    R = [info(r), r.name == a.name, a.acquire(), r._get_value(), r.acquire(False), a.release(),
         r.acquire(False), info(r), info(a)]
""",
)
case(
    "rebuild.fresh_count",
    "a = named(0); a.acquire(); a.acquire(); r = SemLock._rebuild(a.handle, 0, 1, a.name); R = [info(r), info(a), r.acquire(False)]",
)
case("rebuild.called_on_instance", "a = named(); R = info(a._rebuild(0, 1, 1, a.name))")
case(
    "rebuild.keeps_the_unlinked_semaphore_open",
    """
    a = named(); n = a.name; r = SemLock._rebuild(0, 1, 1, n); sem_unlink(n)
    R = [r.acquire(False), a._get_value(), a.release(), r._get_value(), r.name, E(lambda: SemLock._rebuild(0, 1, 1, n))]
""",
)
case_each(
    "rebuild.handle",
    "a = named(); R = E(lambda: info(SemLock._rebuild({expr}, 1, 1, a.name)))",
    [
        ("minus1", "-1"),
        *NOT_INTS,
        ("index", "Index(1)"),
        ("bytes", "b'1'"),
        *self_labelled("12345", "2**64", "2**100", "-2**70", "True"),
    ],
)
case_each(
    "rebuild.kind",
    """
        a = named(); r = E(lambda: SemLock._rebuild(0, {expr}, 1, a.name))
        R = r if isinstance(r, list) else [info(r), r.acquire(), r.acquire(False), E(r.release), E(r.release), info(r)]
    """,
    [
        ("minus1", "-1"),
        *NOT_INTS,
        ("index", "Index(0)"),
        ("index_raises", "Raises()"),
        *self_labelled("7", "2**31", "-2**31-1", "2**63", "-2**63-1"),
    ],
)
case_each(
    "rebuild.maxvalue",
    """
        a = named(); r = E(lambda: SemLock._rebuild(0, 1, {expr}, a.name))
        R = r if isinstance(r, list) else [info(r), E(r.release), r.acquire(), E(r.release), info(r)]
    """,
    [("minus3", "-3"), ("2", "2"), ("str", "'1'"), ("2**31", "2**31"), ("float", "1.0")],
)
case_each("rebuild.name", "SemLock._rebuild(0, 1, 1, {expr})", LOOKUP_NAMES)
case("rebuild.name_str_subclass", "a = named(); R = info(SemLock._rebuild(0, 1, 1, Str(a.name)))")
case("rebuild.name_without_slash", "a = named(); R = info(SemLock._rebuild(0, 1, 1, a.name[1:]))")
case("rebuild.unlinked_name", "a = named(); n = a.name; sem_unlink(n); R = E(lambda: SemLock._rebuild(0, 1, 1, n))")
for n in [0, 1, 3, 5]:
    case(f"rebuild.{n}_args", f"a = named(); R = E(lambda: SemLock._rebuild(*[0, 1, 1, a.name, 1][:{n}]))")
case("rebuild.keyword_name", "a = named(); R = E(lambda: SemLock._rebuild(0, 1, 1, name=a.name))")
case("rebuild.all_keywords", "a = named(); R = E(lambda: SemLock._rebuild(handle=0, kind=1, maxvalue=1, name=a.name))")
case("rebuild.empty_kwargs", "a = named(); R = info(SemLock._rebuild(0, 1, 1, a.name, **{}))")
case("rebuild.bad_name_type_before_bad_kind", "SemLock._rebuild(0, 'x', 1, b'x')")
case("rebuild.bad_kind_before_bad_maxvalue", "SemLock._rebuild(0, 'x', 'y', None)")
case("rebuild.bad_handle_before_bad_name", "SemLock._rebuild('h', 1, 1, b'x')")
# The handle of a semaphore open in this process: the fork case. Stock shares the `sem_t*`, and
# closes it when either object goes, so both are dropped before anything else is opened.
case(
    "rebuild.open_handle",
    """
    s = mk(); r = SemLock._rebuild(s.handle, 1, 1, None)
    R = [r.handle == s.handle, info(r), r.acquire(False), s._get_value(), s.acquire(False),
         r.release(), s._get_value(), info(s)]
    del r, s
""",
)
case(
    "rebuild.open_handle_rlock",
    """
    s = mk(0); r = SemLock._rebuild(s.handle, 0, 1, None)
    R = [info(r), s.acquire(), r.acquire(False), E(r.release), s.release(), r.acquire(False), info(r)]
    r.release()
    del r, s
""",
)

# --- sem_unlink -------------------------------------------------------------------------------
case(
    "sem_unlink.named",
    """
    a = named(); n = a.name
    R = [sem_unlink(n), E(lambda: SemLock._rebuild(0, 1, 1, n)), E(lambda: sem_unlink(n)), info(a)]
""",
)
case(
    "sem_unlink.without_slash",
    "a = named(); n = a.name; R = [sem_unlink(n[1:]), E(lambda: SemLock._rebuild(0, 1, 1, n))]",
)
case("sem_unlink.then_create_again", "a = named(); n = a.name; sem_unlink(n); R = info(SemLock(1, 1, 1, n, True))")
case("sem_unlink.str_subclass", "a = named(); R = [sem_unlink(Str(a.name)), E(lambda: sem_unlink(a.name))]")
case_each("sem_unlink.name", "sem_unlink({expr})", [*LOOKUP_NAMES, ("none", "None")])
case("sem_unlink.no_args", "sem_unlink()")
case("sem_unlink.two_args", "sem_unlink(N(), N())")
case("sem_unlink.keyword", "sem_unlink(name=N())")
case("sem_unlink.empty_kwargs", "sem_unlink(N(), **{})")
case(
    "sem_unlink.pickle",
    "[pickle.loads(pickle.dumps(sem_unlink)) is sem_unlink, E(lambda: pickle.dumps(SemLock.acquire)[:0])]",
)
case(
    "sem_unlink.attributes",
    """
    R = [sem_unlink.__name__, sem_unlink.__qualname__, sem_unlink.__doc__, sem_unlink.__text_signature__,
         sem_unlink.__module__, type(sem_unlink).__name__, E(lambda: str(inspect.signature(sem_unlink)))]
""",
)

# --- attributes ----------------------------------------------------------------------------------
case("attr.handle", "s = mk(); R = [type(s.handle).__name__, s.handle > 0, s.handle == s.handle]")
case("attr.handles_differ", "a = mk(); b = mk(); R = a.handle != b.handle")
case(
    "attr.types",
    "s = named(0, 1, 7); R = [type(s.kind).__name__, type(s.maxvalue).__name__, type(s.name).__name__, s.kind, s.maxvalue]",
)
for attr in ["handle", "kind", "maxvalue", "name"]:
    case(
        f"attr.{attr}.set",
        f"s = named(); R = [E(lambda: setattr(s, '{attr}', 1)), E(lambda: setattr(s, '{attr}', None)), info(s)]",
    )
    case(f"attr.{attr}.delete", f"s = named(); R = [E(lambda: delattr(s, '{attr}')), info(s)]")
    case(
        f"attr.{attr}.descriptor",
        f"""
        d = SemLock.__dict__['{attr}']
        R = [d.__name__, d.__qualname__, d.__doc__, d.__objclass__ is SemLock, E(lambda: d.__set__(mk(), 1)),
             E(lambda: d.__get__(1)), E(lambda: d.__get__(None, SemLock) is d)]
    """,
    )
    case(
        f"attr.{attr}.subclass_set",
        f"""
        class Sub(SemLock): pass
        s = Sub(1, 1, 1, N(), True); R = [E(lambda: setattr(s, '{attr}', 1)), E(lambda: delattr(s, '{attr}'))]
    """,
    )
case(
    "attr.unknown.set",
    "s = mk(); R = [E(lambda: setattr(s, 'foo', 1)), E(lambda: delattr(s, 'foo')), E(lambda: s.foo)]",
)
case("attr.method.set", "s = mk(); R = [E(lambda: setattr(s, 'acquire', None)), E(lambda: delattr(s, 'release'))]")
case("attr.SEM_VALUE_MAX.set_on_instance", "s = mk(); R = [E(lambda: setattr(s, 'SEM_VALUE_MAX', 1)), s.SEM_VALUE_MAX]")
case("attr.non_str_name", "s = mk(); R = [E(lambda: setattr(s, 1, 1)), E(lambda: getattr(s, 1))]")
case("attr.dict", "s = mk(); R = [E(lambda: s.__dict__), E(lambda: vars(s)), hasattr(s, '__dict__')]")
case("attr.weakref", "s = mk(); R = E(lambda: weakref.ref(s)() is s)")
case("attr.SEM_VALUE_MAX", "[SEM_VALUE_MAX, type(SEM_VALUE_MAX).__name__, mk().SEM_VALUE_MAX]")
case("attr.flags", "[M.flags, type(M.flags).__name__]")
case("attr.flags_is_a_fresh_dict", "M.flags is M.flags")

# --- names, docstrings and signatures --------------------------------------------------------------
case(
    "doc.class",
    """
    R = [SemLock.__name__, SemLock.__qualname__, SemLock.__module__, SemLock.__doc__,
         SemLock.__text_signature__, type(SemLock).__name__, [c.__name__ for c in SemLock.__mro__],
         SemLock.__base__ is object, E(lambda: str(inspect.signature(SemLock)))]
""",
)
for method in [*METHODS, "_rebuild"]:
    case(
        f"doc.{method}",
        f"""
        m = getattr(SemLock, '{method}'); b = getattr(mk(), '{method}')
        R = [m.__name__, m.__qualname__, m.__doc__, m.__text_signature__, type(m).__name__,
             b.__name__, b.__qualname__, b.__doc__, b.__text_signature__, type(b).__name__,
             E(lambda: str(inspect.signature(m))), E(lambda: str(inspect.signature(b))),
             getattr(getattr(m, '__objclass__', None), '__name__', None),
             getattr(b.__self__, '__name__', type(b.__self__).__name__)]
    """,
    )
case(
    "doc.new",
    """
    R = [SemLock.__new__.__name__, SemLock.__new__.__qualname__, SemLock.__new__.__doc__,
         SemLock.__new__.__text_signature__, SemLock.__new__.__self__ is SemLock,
         '__new__' in SemLock.__dict__, SemLock.__init__ is object.__init__,
         E(lambda: info(SemLock.__new__(SemLock, 1, 1, 1, N(), True))),
         E(lambda: SemLock.__new__(int, 1, 1, 1, N(), True)), E(lambda: SemLock.__new__())]
""",
)
case("doc.init_after_new", "s = mk(); R = [E(lambda: s.__init__()), E(lambda: s.__init__(1, 2, x=3)), info(s)]")
case("doc.dir", "sorted(set(dir(SemLock)) - set(dir(object)) - {'__module__'})")
case("doc.dir_instance", "sorted(set(dir(mk())) - set(dir(object)) - {'__module__'})")
case("doc.module_in_dict", "'__module__' in SemLock.__dict__")
case("doc.dict_public", "sorted(k for k in SemLock.__dict__ if not k.startswith('__'))")
case(
    "doc.flags",
    """
    f = SemLock.__flags__
    R = {'BASETYPE': bool(f & (1 << 10)), 'IMMUTABLETYPE': bool(f & (1 << 8)),
         'ABSTRACT': bool(f & (1 << 20)), 'HAVE_VECTORCALL': bool(f & (1 << 11))}
""",
)
case("doc.module", "[M.__name__, sorted(n for n in ['SemLock', 'sem_unlink', 'flags'] if hasattr(M, n))]")

# --- subclassing ---------------------------------------------------------------------------------
case(
    "sub.basic",
    """
    class Sub(SemLock): pass
    s = Sub(1, 1, 1, N(), True)
    R = [info(s), isinstance(s, SemLock), s.acquire(), s._count(), type(s).__module__ != '_multiprocessing']
""",
)
case(
    "sub.with_init",
    """
    class Sub(SemLock):
        def __init__(self, *args, tag=None):
            self.tag = tag
    R = [E(lambda: Sub(1, 1, 1, N(), True).tag), E(lambda: Sub(1, 1, 1, N(), True, tag=1))]
""",
)
case(
    "sub.with_new",
    """
    class Sub(SemLock):
        def __new__(cls, value):
            return super().__new__(cls, 1, value, 5, N(), True)
    R = info(Sub(3))
""",
)
case(
    "sub.rebuild_returns_subclass",
    """
    class Sub(SemLock):
        def __init__(self, *args):
            self.tag = 1
    a = named(); r = Sub._rebuild(0, 1, 1, a.name)
    R = [info(r), isinstance(r, Sub), hasattr(r, 'tag'), E(lambda: setattr(r, 'x', 2)), r.__dict__]
""",
)
case(
    "sub.rebuild_skips_new_and_init",
    """
    class Sub(SemLock):
        def __new__(cls, *args): raise RuntimeError('no __new__')
        def __init__(self, *args): raise RuntimeError('no __init__')
    a = named(); R = [E(lambda: info(Sub._rebuild(0, 1, 1, a.name))), E(lambda: Sub(1, 1, 1, N(), True))]
""",
)
case(
    "sub.rebuild_subsubclass",
    """
    class Sub(SemLock): pass
    class SubSub(Sub): pass
    a = named(); R = [info(SubSub._rebuild(0, 0, 1, a.name)), info(SubSub(0, 1, 1, N(), True))]
""",
)
case(
    "sub.rebuild_by_open_handle",
    """
    class Sub(SemLock): pass
    s = mk(); r = Sub._rebuild(s.handle, 1, 1, None)
    R = [info(r), r.handle == s.handle]
    del r, s
""",
)
case(
    "sub.slots",
    """
    class Sub(SemLock):
        __slots__ = ('x',)
    s = Sub(1, 1, 1, N(), True); s.x = 5
    R = [s.x, E(lambda: setattr(s, 'y', 1)), info(s)]
""",
)
case(
    "sub.weakref_and_dict",
    """
    class Sub(SemLock): pass
    s = Sub(1, 1, 1, N(), True); s.extra = 1
    R = [weakref.ref(s)() is s, s.__dict__]
""",
)
case(
    "sub.errors_name_the_subclass",
    """
    class Sub(SemLock): pass
    s = Sub(1, 1, 1, N(), True)
    R = [E(lambda: Sub()), E(lambda: s.release()), E(lambda: SemLock.acquire(1)), E(lambda: Sub._rebuild())]
""",
)
case(
    "sub.override_acquire",
    """
    class Sub(SemLock):
        def acquire(self, *args, **kwargs):
            return ['sub', super().acquire(*args, **kwargs)]
    s = Sub(1, 1, 1, N(), True)
    R = [s.acquire(), s.acquire(False), s.__enter__ is not None, info(s)]
""",
)

# --- pickling, copying, misc protocols -----------------------------------------------------------
for protocol in range(6):
    case(f"pickle.protocol_{protocol}", f"pickle.dumps(mk(), {protocol})")
case("pickle.subclass", "class Sub(SemLock): pass\nR = E(lambda: pickle.dumps(Sub(1, 1, 1, N(), True)))")
case("pickle.copy", "s = mk(); R = [E(lambda: copy.copy(s)), E(lambda: copy.deepcopy(s))]")
case("pickle.reduce", "s = mk(); R = [E(s.__reduce__), E(lambda: s.__reduce_ex__(2)), E(lambda: s.__reduce_ex__(0))]")
case("pickle.getstate", "s = mk(); R = E(lambda: s.__getstate__())")
case(
    "misc.protocols",
    """
    s = mk()
    R = [bool(s), s == s, s != mk(), hash(s) == hash(s), E(lambda: len(s)), E(lambda: s < s), E(lambda: iter(s)),
         E(lambda: s()), E(lambda: format(s, 'x')), E(lambda: s[0]), E(lambda: s + 1), format(s, '') == str(s),
         str(s) == repr(s)]
""",
)
case("misc.repr", "[repr(mk()), repr(SemLock), repr(SemLock.acquire), repr(mk().acquire)[:30]]")
case("misc.class_getitem", "E(lambda: SemLock[int])")
case("misc.instancecheck", "[isinstance(mk(), SemLock), issubclass(SemLock, object), isinstance(1, SemLock)]")

# --- multiprocessing.synchronize on top -----------------------------------------------------------
case(
    "sync.lock_repr",
    """
    import multiprocessing as mp
    lock = mp.Lock(); out = [repr(lock)]; lock.acquire(); out.append(repr(lock))
    out.append(T(lambda: repr(lock))); lock.release(); R = out + [repr(lock)]
""",
)
case(
    "sync.rlock",
    """
    import multiprocessing as mp
    r = mp.RLock(); out = [repr(r), r.acquire(), r.acquire(), repr(r), r.release(), r.release(), E(r.release)]
    R = out
""",
)
case(
    "sync.semaphores",
    """
    import multiprocessing as mp
    s = mp.Semaphore(2); b = mp.BoundedSemaphore(2)
    R = [repr(s), s.get_value(), s.acquire(), repr(s), repr(b), b.acquire(), b.release(), E(b.release)]
""",
)
case(
    "sync.condition_event",
    """
    import multiprocessing as mp
    c = mp.Condition(); e = mp.Event()
    with c:
        waited = c.wait(0.01)
    R = [waited, e.is_set(), e.wait(0), e.set(), e.is_set(), e.wait(0), e.clear(), e.is_set()]
""",
)
case(
    "sync.pickling_refused",
    "import multiprocessing as mp\nR = [E(lambda: pickle.dumps(mp.Lock())), E(lambda: pickle.dumps(mp.get_context('spawn').Lock()))]",
)

# --- last: cases that change the class if it lets them (stock refuses: an immutable type) -----
case(
    "last.class_set",
    """
    R = [E(lambda: setattr(SemLock, 'foo', 1)), E(lambda: setattr(SemLock, 'acquire', None)),
         E(lambda: delattr(SemLock, 'release')), E(lambda: setattr(SemLock, 'SEM_VALUE_MAX', 1)),
         E(lambda: setattr(SemLock, '__doc__', 'x')), SemLock.SEM_VALUE_MAX]
""",
)

CASE_NAMES = [name for name, _ in CASES]
assert len(set(CASE_NAMES)) == len(CASE_NAMES), "duplicate case names"


#: Differences that are known and explained: (case, version) -> (stock result, our result, why).
KNOWN_DIFFERENCES = {
    (case_name, version): (
        False,
        True,
        "stock's SemLock is a static type up to 3.11 (its module is in "
        "tp_name) and a heap type from 3.12; ours, made by PyO3, is a heap type on every "
        "version, whose __module__ lives in its __dict__",
    )
    for case_name in ["doc.module_in_dict"]
    for version in ["3.10", "3.11"]
}

#: Facts about the stock module (spec section 1, checked on stock interpreters), asserted for
#: both sides: they keep the comparison honest (a scenario that silently broke would make both
#: sides agree on nonsense).
ZERO = ["SemLock", 1, 1, None, 0, 0, True, False]  # info() of an untouched mk(1, 0)
ONE = ["SemLock", 1, 1, None, 0, 1, False, False]  # info() of an untouched mk()
NOT_INT = "'{}' object cannot be interpreted as an integer"
EXPECTED = {
    "new.kind=2": lambda v: ["!", "ValueError", "unrecognized kind"],
    "new.no_args": lambda v: ["!", "TypeError", "SemLock() missing required argument 'kind' (pos 1)"],
    "new.name=bytes": lambda v: ["!", "TypeError", "SemLock() argument 'name' must be str, not bytes"],
    "new.name=nul": lambda v: ["!", "ValueError", "embedded null character"],
    "new.kind=2**64": lambda v: ["!", "OverflowError", "Python int too large to convert to C int"],
    "new.value=minus1": lambda v: ["!", "OSError", "[Errno 22] Invalid argument"],
    "new.unlink=True": lambda v: [True, ONE],
    "new.unlink=float": lambda v: ["!", "TypeError", NOT_INT.format("float")] if v < (3, 12) else [True, ONE],
    "acquire.block=None": lambda v: (
        [[["!", "TypeError", NOT_INT.format("NoneType")], False], ZERO] if v < (3, 12) else [[False, False], ZERO]
    ),
    "acquire.block=2.5": lambda v: (
        [[["!", "TypeError", NOT_INT.format("float")], False], ZERO] if v < (3, 12) else [[False, True], ZERO]
    ),
    "acquire.block=empty_list": lambda v: (
        [[["!", "TypeError", NOT_INT.format("list")], False], ZERO] if v < (3, 12) else [[False, False], ZERO]
    ),
    "acquire.timeout=str": lambda v: [["!", "TypeError", "must be real number, not str"], ONE],
    "acquire.owned_rlock_timeout=str": lambda v: [True, ["SemLock", 0, 1, None, 2, 0, True, True]],
    "acquire.negative_timeout_at_once": lambda v: [[False, True], [False, True]],
    "acquire.nonblocking_ignores_timeout": lambda v: [False, True],
    "acquire.rlock_recursive": lambda v: [True] * 5 + [["SemLock", 0, 1, None, 5, 0, True, True]],
    "release.rlock_not_owned": lambda v: [
        ["!", "AssertionError", "attempt to release recursive lock not owned by thread"],
        ["SemLock", 0, 1, None, 0, 1, False, False],
    ],
    "release.lock_not_held": lambda v: [["!", "ValueError", "semaphore or lock released too many times"], ONE],
    "rebuild.name=bytes": lambda v: ["!", "TypeError", "_rebuild() argument 4 must be str or None, not bytes"],
    "rebuild.unlinked_name": lambda v: ["!", "FileNotFoundError", "[Errno 2] No such file or directory"],
    "sem_unlink.name=missing": lambda v: ["!", "FileNotFoundError", "[Errno 2] No such file or directory"],
    "sem_unlink.name=bytes": lambda v: ["!", "TypeError", "sem_unlink() argument must be str, not bytes"],
    "pickle.protocol_2": lambda v: ["!", "TypeError", "cannot pickle '_multiprocessing.SemLock' object"],
    "enter.returns": lambda v: [True, ["SemLock", 1, 1, None, 1, 0, True, True]],
    "doc.class": lambda v: [
        "SemLock",
        "SemLock",
        "_multiprocessing",
        "Semaphore/Mutex type",
        None,
        "type",
        ["SemLock", "object"],
        True,
        ["!", "ValueError", "no signature found for builtin type <class '_multiprocessing.SemLock'>"],
    ],
}


@functools.cache
def outcomes(version, tmp_root):
    """{"stock": {...}, "ours": {...}} for one interpreter: both scenario runs, side by side."""
    cases = Path(tmp_root) / "cases.json"
    cases.write_text(json.dumps(CASES))
    prefix = f"{SEM_PREFIX}{version.replace('.', '')}-"
    stock, ours = run_json_both(version, [script("semlock_cases.py"), prefix, str(cases)])
    return {"stock": stock, "ours": ours}


@pytest.fixture(scope="module")
def tmp_root(tmp_path_factory):
    return str(tmp_path_factory.mktemp("semlock-parity"))


@pytest.mark.parametrize("required", ["3.11", "3.13"])
def test_required_version_is_present(required):
    interpreter(required)


def test_each_side_ran_the_module_it_claims(version, tmp_root):
    both = outcomes(version, tmp_root)
    assert both["stock"]["meta"]["ours"] is False
    assert both["ours"]["meta"]["ours"] is True
    assert both["stock"]["meta"]["version"] == both["ours"]["meta"]["version"] == [int(p) for p in version.split(".")]
    assert set(both["stock"]["results"]) == set(both["ours"]["results"]) == set(CASE_NAMES)


def test_no_exception_was_ignored(version, tmp_root):
    """Errors in finalizers (a failing sem_close, say) surface as "Exception ignored"."""
    both = outcomes(version, tmp_root)
    assert both["ours"]["meta"]["unraisable"] == both["stock"]["meta"]["unraisable"] == []


def test_ours_has_every_public_name_of_stock(version, tmp_root):
    both = outcomes(version, tmp_root)
    missing = set(both["stock"]["meta"]["public"]) - set(both["ours"]["meta"]["public"])
    assert not missing


@pytest.mark.parametrize("name", sorted(EXPECTED))
@pytest.mark.parametrize("side", ["stock", "ours"])
def test_documented_behaviour(version, tmp_root, name, side):
    result = outcomes(version, tmp_root)[side]["results"][name]
    want = EXPECTED[name](tuple(int(p) for p in version.split(".")))
    assert result == want, f"{side} on {version}, case {name!r}: {json.dumps(result)}, expected {json.dumps(want)}"


@pytest.mark.parametrize("name", CASE_NAMES)
def test_case(version, tmp_root, name):
    both = outcomes(version, tmp_root)
    stock, ours = both["stock"]["results"][name], both["ours"]["results"][name]
    code = dict(CASES)[name]
    if (name, version) in KNOWN_DIFFERENCES:
        want_stock, want_ours, why = KNOWN_DIFFERENCES[name, version]
        assert (stock, ours) == (want_stock, want_ours), f"known difference changed ({why})"
        return
    assert ours == stock, (
        f"CPython {version}, case {name!r}:\n{code}\nstock: {json.dumps(stock)}\nours:  {json.dumps(ours)}"
    )


# --- _rebuild by handle: after fork() (both sides), and handles not open here (ours only) -------


def test_rebuild_by_handle_after_fork_as_stock(version):
    rebuild = script("semlock_fork_rebuild.py")
    stock, ours = run_json_both(version, [rebuild, f"{SEM_PREFIX}f{version.replace('.', '')}-"])
    assert (stock["ours"], ours["ours"]) == (False, True)
    assert ours["child"] == stock["child"]
    assert ours["parent_after"] == stock["parent_after"]
    assert ours["child_status"] == stock["child_status"] == 0
    # What both do (so that agreement is not agreement on nonsense):
    assert stock["child"]["rebuilt"] == [True, 1, 1, None, 0]
    assert stock["child"]["held_by_parent"] == [
        False,
        0,
        False,
        ["!", "AssertionError", "attempt to release recursive lock not owned by thread"],
    ]
    assert stock["child"]["inherited"] == [1, True, 1, True]
    assert stock["parent_after"] == [1, True, 2, 1, None, 1]


def test_rebuild_of_a_handle_not_open_here_is_refused_by_ours(version):
    """The README's intentional difference: ours checks the handle (EINVAL) where stock trusts
    it as a pointer and crashes on first use. Run on ours only."""
    rebuild = script("semlock_fork_rebuild.py")
    report = run_json(version, [rebuild, f"{SEM_PREFIX}n{version.replace('.', '')}-", "--ours-only"], ours=True)
    assert report["ours"] is True
    for label, outcome in report["not_open"].items():
        assert outcome[:2] == ["OSError", 22], (label, outcome)
    assert report["open_still_works"] == [True]
