# verity in-process test driver (assert-style and function-call harnesses).
#
# Runs inside the sandbox: python3 /code/driver.py /code/spec.json
# The first stdin line is a per-run nonce; results go to the original stdout as lines
#   @@verity@@<nonce> {json}
# while the candidate's own stdout is redirected to stderr. The last line is {"done": true}:
# a run that ends without it (os._exit, crash, kill) is a runtime error for the tests that
# did not report.
import ast
import json
import linecache
import math
import os
import signal
import sys
import traceback

MARK = "@@verity@@"
LIMIT = 300


def short(text):
    text = str(text)
    return text if len(text) <= LIMIT else text[:LIMIT] + "...[truncated]"


def safe_repr(value):
    try:
        return short(repr(value))
    except BaseException as error:  # a candidate object whose __repr__ fails
        return "<unrepresentable: %s>" % type(error).__name__


class TestTimeout(BaseException):
    pass


def on_alarm(signum, frame):
    raise TestTimeout()


def register_source(filename, source):
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)


def describe(error):
    frames = traceback.extract_tb(error.__traceback__)
    where = ""
    for frame in reversed(frames):
        if frame.filename in ("test.py", "candidate.py", "setup.py", "prelude.py"):
            where = "%s:%s: %s" % (frame.filename, frame.lineno, (frame.line or "").strip())
            break
    head = "".join(traceback.format_exception_only(type(error), error)).strip()
    return short(head + (" at " + where if where else ""))


def main():
    nonce = sys.stdin.readline().strip()
    sys.stdin = open(os.devnull)
    out = os.fdopen(os.dup(1), "w", buffering=1)
    os.dup2(2, 1)
    with open(sys.argv[1], encoding="utf-8") as handle:
        spec = json.load(handle)
    code_dir = os.path.dirname(os.path.abspath(sys.argv[1]))
    with open(os.path.join(code_dir, "candidate.py"), encoding="utf-8") as handle:
        candidate = handle.read()

    def emit(obj):
        out.write(MARK + nonce + " " + json.dumps(obj) + "\n")
        out.flush()

    per_test = float(spec.get("per_test_timeout", 6.0))
    rel_tol = spec.get("float_tolerance")
    signal.signal(signal.SIGALRM, on_alarm)

    def guarded(action):
        signal.setitimer(signal.ITIMER_REAL, per_test)
        try:
            action()
            return None
        except TestTimeout:
            return ("timeout", "per-test time limit of %ss exceeded" % per_test)
        except MemoryError:
            return ("memory", "MemoryError")
        except RecursionError as error:
            return ("error", describe(error))
        except AssertionError as error:
            return ("fail", describe(error))
        except SystemExit as error:
            return ("error", "SystemExit(%s) raised" % short(error.code))
        except BaseException as error:
            return ("error", describe(error))
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)

    namespace = {"__name__": "__verity_candidate__", "__builtins__": __builtins__}
    # Order: prelude, the imports of the setup, the candidate, the rest of the setup (MBPP's
    # test_setup_code uses names the candidate defines), then the tests.
    setup_before, setup_after = split_setup(spec.get("setup") or "")
    stages = (
        ("prelude.py", spec.get("prelude") or ""),
        ("setup.py", setup_before),
        ("candidate.py", candidate),
        ("setup.py", setup_after),
    )
    for name, source in stages:
        if not source:
            continue
        register_source(name, source)

        def run_source(source=source, name=name):
            exec(compile(source, name, "exec"), namespace)

        problem = guarded(run_source)
        if problem is not None:
            emit({"stage": name[:-3], "status": problem[0], "message": problem[1]})
            emit({"done": True})
            return

    if spec["mode"] == "assert":
        run_asserts(spec, namespace, guarded, emit)
    else:
        run_calls(spec, namespace, guarded, emit, rel_tol)
    emit({"done": True})


def split_setup(source):
    """(top-level imports, everything else) of the setup code, each as source text."""
    if not source:
        return "", ""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return "", source
    imports = [n for n in tree.body if isinstance(n, (ast.Import, ast.ImportFrom))]
    rest = [n for n in tree.body if not isinstance(n, (ast.Import, ast.ImportFrom))]
    unparse = lambda nodes: "\n".join(ast.get_source_segment(source, n) or ast.unparse(n) for n in nodes)
    return unparse(imports), unparse(rest)


SETUP_NODES = (
    ast.FunctionDef,
    ast.AsyncFunctionDef,
    ast.ClassDef,
    ast.Import,
    ast.ImportFrom,
    ast.Assign,
    ast.AnnAssign,
    ast.AugAssign,
)


def run_asserts(spec, namespace, guarded, emit):
    source = spec.get("test_code") or ""
    register_source("test.py", source)
    try:
        tree = ast.parse(source, "test.py")
    except SyntaxError as error:
        emit({"i": 0, "name": "test code", "status": "error", "message": describe(error)})
        return
    body = list(tree.body)
    entry = spec.get("entry_point")
    defines_check = any(isinstance(n, ast.FunctionDef) and n.name == "check" for n in body)
    calls_check = any(
        isinstance(n, ast.Expr)
        and isinstance(n.value, ast.Call)
        and isinstance(n.value.func, ast.Name)
        and n.value.func.id == "check"
        for n in body
    )
    if defines_check and not calls_check and entry:
        extra = ast.parse("check(%s)" % entry).body[0]
        body.append(extra)
    index = 0
    for node in body:
        module = ast.Module(body=[node], type_ignores=[])
        if isinstance(node, SETUP_NODES):
            problem = guarded(lambda module=module: exec(compile(module, "test.py", "exec"), namespace))
            if problem is not None:
                emit({"i": index, "name": "test setup line %d" % node.lineno, "status": "error",
                      "message": problem[1]})
                index += 1
            continue
        name = short(ast.get_source_segment(source, node) or ast.unparse(node))
        result = {"i": index, "name": name}
        if (isinstance(node, ast.Assert) and isinstance(node.test, ast.Compare)
                and len(node.test.ops) == 1 and isinstance(node.test.ops[0], ast.Eq)):
            values = {}

            def compare(node=node, values=values):
                left = ast.Expression(body=node.test.left)
                right = ast.Expression(body=node.test.comparators[0])
                values["got"] = eval(compile(left, "test.py", "eval"), namespace)
                values["expected"] = eval(compile(right, "test.py", "eval"), namespace)
                if not (values["got"] == values["expected"]):
                    raise AssertionError("values differ")

            problem = guarded(compare)
            if problem is not None and problem[0] == "fail":
                result["expected"] = safe_repr(values.get("expected"))
                result["got"] = safe_repr(values.get("got"))
        else:
            problem = guarded(lambda module=module: exec(compile(module, "test.py", "exec"), namespace))
        if problem is None:
            result["status"] = "pass"
        else:
            result["status"], result["message"] = problem
        emit(result)
        index += 1


def normalize(value):
    """Tuples become lists (JSON has no tuples), recursively."""
    if isinstance(value, (list, tuple)):
        return [normalize(v) for v in value]
    if isinstance(value, dict):
        return {k: normalize(v) for k, v in value.items()}
    return value


def equal(got, expected, rel_tol):
    if isinstance(got, bool) or isinstance(expected, bool):
        return got == expected
    if rel_tol is not None and isinstance(got, (int, float)) and isinstance(expected, (int, float)):
        return math.isclose(got, expected, rel_tol=rel_tol, abs_tol=rel_tol)
    if isinstance(got, list) and isinstance(expected, list):
        return len(got) == len(expected) and all(equal(g, e, rel_tol) for g, e in zip(got, expected))
    if isinstance(got, dict) and isinstance(expected, dict):
        return got.keys() == expected.keys() and all(equal(got[k], expected[k], rel_tol) for k in got)
    return got == expected


def resolve(namespace, entry):
    if entry in namespace:
        return namespace[entry]
    solution = namespace.get("Solution")
    if solution is not None:
        return getattr(solution(), entry)
    raise NameError("entry point %r is not defined" % entry)


def run_calls(spec, namespace, guarded, emit, rel_tol):
    entry = spec.get("entry_point") or ""
    unwrap = bool(spec.get("unwrap_singleton_outputs"))
    for index, case in enumerate(spec.get("cases", [])):
        args = case.get("input")
        expected = case.get("output")
        result = {"i": index, "name": "%s(%s)" % (entry, short(json.dumps(args))[:120])}
        box = {}

        def call(args=args, box=box):
            function = resolve(namespace, entry)
            if isinstance(args, list):
                box["got"] = function(*args)
            elif isinstance(args, dict):
                box["got"] = function(**args)
            else:
                box["got"] = function(args)
            got = normalize(box["got"])
            wanted = normalize(expected)
            if not equal(got, wanted, rel_tol) and not (
                    unwrap and isinstance(wanted, list) and len(wanted) == 1
                    and equal(got, wanted[0], rel_tol)):
                raise AssertionError("values differ")

        problem = guarded(call)
        if problem is None:
            result["status"] = "pass"
        else:
            result["status"], result["message"] = problem
            if problem[0] == "fail":
                result["expected"] = safe_repr(expected)
                result["got"] = safe_repr(box.get("got"))
        emit(result)


main()
