# verity's judge for the in-process harnesses (assert-style and function-call).
#
# Runs in its own sandbox: python3 /code/judge.py /code/spec.json
# It holds the tests and the expected values; the candidate runs in another process in another
# sandbox (server.py) and is reached through the descriptor named by VERITY_CHANNEL_FD. Every
# name the candidate defines appears here as a proxy: calling it sends the arguments as plain
# data, and the answer comes back as plain data rebuilt here (plain.py), so no object of the
# candidate ever runs in this process. Exceptions come back as their type and message.
#
# The first stdin line is a per-run nonce; results go to the original stdout as lines
#   @@verity@@<nonce> {json}
# while the tests' own prints go to stderr. The last line is {"done": true}.
import ast
import builtins
import importlib
import json
import linecache
import math
import os
import signal
import socket
import sys
import traceback

import plain

MARK = "@@verity@@"
LIMIT = 300
GRACE = 2.0


def short(text):
    text = str(text)
    return text if len(text) <= LIMIT else text[:LIMIT] + "...[truncated]"


def safe_repr(value):
    try:
        return short(repr(value))
    except BaseException as error:
        return "<unrepresentable: %s>" % type(error).__name__


class TestTimeout(BaseException):
    pass


class CandidateGone(BaseException):
    """The candidate's process ended or stopped answering: no later call can be answered."""


class CandidateStuck(CandidateGone):
    """The candidate did not answer within its time (it ignores its own per-call timer)."""


class CandidateViolation(BaseException):
    """The candidate answered with something that cannot be a result (a non-plain object)."""


class CandidateException(Exception):
    """An exception raised in the candidate whose type is not a builtin exception."""


def on_alarm(signum, frame):
    raise TestTimeout()


def register_source(filename, source):
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)


def describe(error):
    frames = traceback.extract_tb(error.__traceback__)
    where = ""
    for frame in reversed(frames):
        if frame.filename in ("test.py", "setup.py", "prelude.py"):
            where = "%s:%s: %s" % (frame.filename, frame.lineno, (frame.line or "").strip())
            break
    head = "".join(traceback.format_exception_only(type(error), error)).strip()
    if getattr(error, "_verity_candidate", False):
        head += " (raised by the candidate)"
    return short(head + (" at " + where if where else ""))


def rebuild_exception(info):
    name = str(info.get("type") or "Exception")
    message = str(info.get("message") or "")
    kind = getattr(builtins, name, None) if info.get("builtin") else None
    if not (isinstance(kind, type) and issubclass(kind, Exception)):
        safe = name if name.isidentifier() else "CandidateException"
        kind = type(safe, (CandidateException,), {})
    try:
        error = kind(message)
    except BaseException:
        error = CandidateException(message)
    error._verity_candidate = True
    return error


def sync_in_place(original, state):
    """Apply the candidate's in-place changes of an argument to the judge's own object."""
    if type(original) is list and type(state) is list:
        original[:] = state
    elif type(original) is dict and type(state) is dict:
        original.clear()
        original.update(state)
    elif type(original) is set and type(state) is set:
        original.clear()
        original.update(state)


class Remote:
    """The judge's end of the channel."""

    def __init__(self, sock, per_test, nodes):
        self.sock = sock
        self.per_test = per_test
        self.nodes = nodes
        self.gone = None
        self.stuck = False
        self.pending = 0
        self.audit = []

    def receive(self, timeout):
        self.sock.settimeout(timeout)
        try:
            message = plain.receive(self.sock)
        except (socket.timeout, TimeoutError):
            self.gone = "the candidate stopped answering (no answer within %.1fs)" % timeout
            self.stuck = True
            raise CandidateStuck(self.gone)
        except (plain.ChannelClosed, OSError) as error:
            self.gone = "the candidate's process ended"
            raise CandidateGone(self.gone)
        except (plain.NotPlain, ValueError) as error:
            self.gone = "the candidate sent a malformed message: %s" % short(error)
            raise CandidateGone(self.gone)
        for event in message.get("audit") or []:
            if len(self.audit) < 20:
                self.audit.append("runtime: %s" % short(event)[:120])
        return message

    def encode(self, value):
        try:
            return plain.encode(value, 0, handle_of)
        except plain.NotPlain as error:
            raise TypeError("cannot pass %s to the candidate (plain data only)" % error)

    def request(self, message):
        if self.gone:
            raise (CandidateStuck if self.stuck else CandidateGone)(self.gone)
        while self.pending:
            # An answer to a call interrupted by the test's time limit: discard it.
            self.receive(GRACE)
            self.pending -= 1
        remaining = signal.getitimer(signal.ITIMER_REAL)[0] or self.per_test
        message["timeout"] = remaining
        try:
            plain.send(self.sock, message)
        except OSError:
            self.gone = "the candidate's process ended"
            raise CandidateGone(self.gone)
        self.pending += 1
        reply = self.receive(remaining + GRACE)
        self.pending -= 1
        if reply.get("timeout"):
            raise TestTimeout()
        if "error" in reply:
            raise CandidateViolation(short(reply["error"]))
        if "raised" in reply:
            raise rebuild_exception(reply["raised"] or {})
        return reply

    def handle(self, reply, class_name):
        handle = reply["handle"]
        if type(handle) is not int:
            raise CandidateViolation("a malformed answer")
        return InstanceProxy(self, handle, class_name)

    def value(self, reply):
        try:
            return plain.decode(reply["ok"], self.nodes)
        except (plain.NotPlain, TypeError, ValueError) as error:
            raise CandidateViolation("a malformed answer: %s" % short(error))

    def getattr(self, handle, attr, owner):
        reply = self.request({"op": "getattr", "target": {"handle": handle, "attr": attr}})
        if reply.get("callable"):
            return CALLABLE
        if "handle" in reply:
            return self.handle(reply, "%s.%s" % (owner, attr))
        if "ok" not in reply:
            raise CandidateViolation("a malformed answer")
        return self.value(reply)

    def setattr(self, handle, attr, value):
        self.request({"op": "setattr", "target": {"handle": handle, "attr": attr},
                      "value": self.encode(value)})

    def call(self, target, args, kwargs):
        encoded_args = [self.encode(a) for a in args]
        encoded_kwargs = [[k, self.encode(v)] for k, v in kwargs.items()]
        reply = self.request({"op": "call", "target": target, "args": encoded_args,
                              "kwargs": encoded_kwargs})
        if reply.get("timeout"):
            raise TestTimeout()
        if "error" in reply:
            raise CandidateViolation(short(reply["error"]))
        if "raised" in reply:
            raise rebuild_exception(reply["raised"] or {})
        if "handle" in reply:
            if "name" not in target:
                raise CandidateViolation("a malformed answer")
            return self.handle(reply, target["name"])
        if "ok" not in reply:
            raise CandidateViolation("a malformed answer")
        try:
            result = plain.decode(reply["ok"], self.nodes)
            states = reply.get("args") or []
            for original, state in zip(args, states):
                if state is not None:
                    sync_in_place(original, plain.decode(state, self.nodes))
            for name, state in reply.get("kwargs") or []:
                if name in kwargs:
                    sync_in_place(kwargs[name], plain.decode(state, self.nodes))
        except (plain.NotPlain, TypeError, ValueError) as error:
            raise CandidateViolation("a malformed answer: %s" % short(error))
        return result


CALLABLE = object()


class FunctionProxy:
    def __init__(self, remote, name):
        self._remote = remote
        self.__name__ = name

    def __call__(self, *args, **kwargs):
        return self._remote.call({"name": self.__name__}, args, kwargs)

    def __repr__(self):
        return "<candidate function %s>" % self.__name__


class InstanceProxy:
    """An object that lives in the candidate's process: attributes and methods are reached
    through the channel; it has no truth value, equality is identity."""

    def __init__(self, remote, handle, class_name):
        object.__setattr__(self, "_verity_remote", remote)
        object.__setattr__(self, "_verity_handle", handle)
        object.__setattr__(self, "_verity_class", class_name)

    def __getattr__(self, attr):
        if attr.startswith("__") or attr.startswith("_verity_"):
            raise AttributeError(attr)
        remote, handle = self._verity_remote, self._verity_handle
        value = remote.getattr(handle, attr, self._verity_class)
        if value is not CALLABLE:
            return value

        def method(*args, **kwargs):
            return remote.call({"handle": handle, "attr": attr}, args, kwargs)

        method.__name__ = attr
        return method

    def __setattr__(self, attr, value):
        self._verity_remote.setattr(self._verity_handle, attr, value)

    def __bool__(self):
        raise CandidateViolation("gave an object whose truth value was tested (plain data only)")

    def __repr__(self):
        return "<candidate %s object>" % self._verity_class


def handle_of(value):
    if type(value) is InstanceProxy:
        return object.__getattribute__(value, "_verity_handle")
    return None


SUSPICIOUS_MODULES = {"ctypes", "gc", "inspect", "signal", "atexit", "faulthandler", "unittest",
                      "builtins", "importlib", "traceback", "socket", "pickle", "marshal",
                      "_thread", "sysconfig", "site", "dis", "code", "codeop", "pdb", "bdb",
                      "tracemalloc", "resource"}
SUSPICIOUS_ATTRS = {"_getframe", "f_back", "f_globals", "f_locals", "f_builtins", "f_code",
                    "tb_frame", "gi_frame", "cr_frame", "ag_frame", "settrace", "setprofile",
                    "get_objects", "get_referrers", "get_referents", "__builtins__",
                    "__globals__", "__code__", "__subclasses__", "_exit", "addaudithook",
                    "modules", "dup2", "closerange", "_current_frames", "excepthook",
                    "__closure__", "co_consts"}
SUSPICIOUS_CALLS = {"exit", "quit", "__import__", "breakpoint", "globals", "vars"}
SUSPICIOUS_TEXT = ("/code", "/proc", "@@verity", "spec.json", "judge.py", "server.py",
                   "plain.py", "PYTHONOPTIMIZE", "VERITY_")


def suspicions(source):
    """Evidence that a candidate reaches for the harness's machinery (static, from the AST)."""
    found = []

    def note(node, text):
        if len(found) < 20:
            found.append("line %s: %s" % (getattr(node, "lineno", "?"), text))

    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError, RecursionError):
        return found
    modules = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                root = alias.name.split(".")[0]
                modules.add(alias.asname or root)
                if root in SUSPICIOUS_MODULES:
                    note(node, "imports %s" % alias.name)
        elif isinstance(node, ast.ImportFrom):
            root = (node.module or "").split(".")[0]
            if root in SUSPICIOUS_MODULES:
                note(node, "imports from %s" % node.module)
            for alias in node.names:
                if alias.name in SUSPICIOUS_ATTRS:
                    note(node, "imports %s" % alias.name)
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and node.attr in SUSPICIOUS_ATTRS:
            note(node, "uses .%s" % node.attr)
        elif (isinstance(node, ast.Attribute) and node.attr in ("exit", "abort", "kill")
              and isinstance(node.value, ast.Name) and node.value.id in ("sys", "os")):
            note(node, "uses %s.%s" % (node.value.id, node.attr))
        elif (isinstance(node, ast.Raise) and node.exc is not None
              and "SystemExit" in ast.dump(node.exc)):
            note(node, "raises SystemExit")
        elif isinstance(node, ast.Name) and node.id in ("__builtins__", "__loader__", "__spec__"):
            note(node, "uses %s" % node.id)
        elif isinstance(node, ast.Call):
            func = node.func
            name = func.id if isinstance(func, ast.Name) else None
            if name in SUSPICIOUS_CALLS:
                note(node, "calls %s()" % name)
            if name in ("setattr", "delattr") and node.args:
                first = node.args[0]
                if isinstance(first, ast.Name) and first.id in modules | {"builtins"}:
                    note(node, "%s on module %s" % (name, first.id))
            if name == "compile" and (len(node.args) > 5 or any(k.arg == "optimize" for k in node.keywords)):
                note(node, "compiles with optimize (strips asserts)")
        elif isinstance(node, (ast.Assign, ast.AugAssign, ast.Delete, ast.AnnAssign)):
            targets = node.targets if isinstance(node, (ast.Assign, ast.Delete)) else [node.target]
            for target in targets:
                if (isinstance(target, ast.Attribute) and isinstance(target.value, ast.Name)
                        and target.value.id in modules and target.value.id != "sys"
                        or isinstance(target, ast.Attribute) and isinstance(target.value, ast.Name)
                        and target.value.id == "sys" and target.attr not in ("stdin",)):
                    note(node, "patches %s.%s" % (target.value.id, target.attr))
        elif isinstance(node, ast.FunctionDef) and node.name in ("__eq__", "__ne__", "__hash__"):
            body = [n for n in node.body if not isinstance(n, ast.Expr)]
            if (len(body) == 1 and isinstance(body[0], ast.Return)
                    and isinstance(body[0].value, ast.Constant)):
                note(node, "defines %s returning the constant %r" % (node.name, body[0].value.value))
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            for text in SUSPICIOUS_TEXT:
                if text in node.value:
                    note(node, "mentions %r" % text)
                    break
    for node in ast.walk(tree):
        if (isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id in ("__eq__", "__ne__")
                                                 for t in node.targets)
                or isinstance(node, ast.Assign) and any(isinstance(t, ast.Attribute) and t.attr in ("__eq__", "__ne__")
                                                        for t in node.targets)):
            note(node, "assigns __eq__/__ne__")
    return found


def functions_under_test(spec):
    """The entry point, and the names the assert-style tests check directly (`assert
    name(constant arguments) == expected`): only these may shadow a builtin."""
    found = {spec.get("entry_point") or ""}
    try:
        tree = ast.parse(spec.get("test_code") or "")
    except (SyntaxError, ValueError, RecursionError):
        return found
    for node in ast.walk(tree):
        if (isinstance(node, ast.Compare) and len(node.ops) == 1 and isinstance(node.ops[0], ast.Eq)
                and isinstance(node.left, ast.Call) and isinstance(node.left.func, ast.Name)):
            inner = [n for a in node.left.args + [k.value for k in node.left.keywords]
                     for n in ast.walk(a) if isinstance(n, ast.Call)]
            if not inner:
                found.add(node.left.func.id)
    return found


def names_used(spec):
    used = set()
    for key in ("test_code", "setup"):
        try:
            tree = ast.parse(spec.get(key) or "")
        except (SyntaxError, ValueError, RecursionError):
            continue
        used.update(n.id for n in ast.walk(tree) if isinstance(n, ast.Name))
    return used


def main():
    if hasattr(sys, "set_int_max_str_digits"):
        sys.set_int_max_str_digits(0)
    nonce = sys.stdin.readline().strip()
    sys.stdin = open(os.devnull)
    out = os.fdopen(os.dup(1), "w", buffering=1)
    os.dup2(2, 1)
    with open(sys.argv[1], encoding="utf-8") as handle:
        spec = json.load(handle)
    code_dir = os.path.dirname(os.path.abspath(sys.argv[1]))
    with open(os.path.join(code_dir, "candidate.py"), encoding="utf-8") as handle:
        candidate_source = handle.read()

    def emit(obj):
        out.write(MARK + nonce + " " + json.dumps(obj) + "\n")
        out.flush()

    per_test = float(spec.get("per_test_timeout", 6.0))
    rel_tol = spec.get("float_tolerance")
    signal.signal(signal.SIGALRM, on_alarm)
    sock = socket.socket(fileno=int(os.environ.pop("VERITY_CHANNEL_FD")))

    def guarded(action):
        signal.setitimer(signal.ITIMER_REAL, per_test)
        try:
            action()
            return None
        except TestTimeout:
            return ("timeout", "per-test time limit of %ss exceeded" % per_test)
        except CandidateStuck as error:
            return ("timeout", str(error))
        except CandidateGone as error:
            return ("lost", str(error))
        except CandidateViolation as error:
            return ("fail", "the candidate %s" % error if str(error).startswith("returned")
                    else "the candidate sent %s" % error)
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

    namespace = {"__name__": "__verity_tests__", "__builtins__": builtins}
    remote = Remote(sock, per_test, namespace)
    evidence = suspicions(candidate_source)

    def finish():
        flags = evidence + remote.audit
        if flags:
            emit({"suspect": flags})
        emit({"done": True})

    # Order: prelude and the imports of the setup (as on the candidate's side), the candidate's
    # names as proxies, the rest of the setup (MBPP's test_setup_code uses names the candidate
    # defines), then the tests.
    setup_before, setup_after = split_setup(spec.get("setup") or "")
    for name, source in (("prelude.py", spec.get("prelude") or ""), ("setup.py", setup_before)):
        if source:
            register_source(name, source)
            problem = guarded(lambda source=source, name=name: exec(compile(source, name, "exec"), namespace))
            if problem is not None:
                emit({"stage": name[:-3], "status": problem[0], "message": problem[1]})
                finish()
                return
    try:
        ready = remote.receive(per_test + 5.0)
    except CandidateGone as error:
        emit({"stage": "candidate", "status": "lost", "message": str(error)})
        finish()
        return
    if not ready.get("ready"):
        if ready.get("timeout"):
            status, message = "timeout", "loading took longer than %ss" % per_test
        else:
            error = rebuild_exception(ready.get("raised") or {})
            status = "error"
            message = short("".join(traceback.format_exception_only(type(error), error)).strip())
        emit({"stage": ready.get("stage") if ready.get("stage") in ("prelude", "setup", "candidate")
              else "candidate", "status": status, "message": message})
        finish()
        return
    names = ready.get("names") or {}
    if type(names) is not dict:
        names = {}
    values = ready.get("values") or {}
    if type(values) is dict:
        for name, data in values.items():
            if isinstance(name, str) and name.isidentifier() and name not in namespace \
                    and not hasattr(builtins, name):
                try:
                    namespace[name] = plain.decode(data, namespace)
                except (plain.NotPlain, TypeError, ValueError):
                    pass
    under_test = functions_under_test(spec)
    for name, kind in names.items():
        if not (isinstance(name, str) and name.isidentifier()) or name in namespace:
            continue
        if hasattr(builtins, name) and name not in under_test:
            # A candidate's `abs` or `len` must not answer for the tests' own helpers.
            continue
        if name in plain.NODE_FIELDS:
            continue
        if kind == "class":
            namespace[name] = ClassProxy(remote, name)
        else:
            namespace[name] = FunctionProxy(remote, name)
    modules = ready.get("modules") or {}
    if type(modules) is dict:
        # Modules the candidate imported and the tests use without importing (MBPP relies on
        # the candidate's `import sys`): the judge imports its own copy.
        used = names_used(spec)
        for name, module in modules.items():
            if isinstance(name, str) and name in used and name not in namespace \
                    and isinstance(module, str) and not hasattr(builtins, name):
                try:
                    namespace[name] = importlib.import_module(module)
                except BaseException:
                    pass
    if setup_after:
        register_source("setup.py", setup_after)
        problem = guarded(lambda: exec(compile(setup_after, "setup.py", "exec"), namespace))
        if problem is not None:
            emit({"stage": "setup", "status": problem[0], "message": problem[1]})
            finish()
            return

    if spec["mode"] == "assert":
        run_asserts(spec, namespace, guarded, emit)
    else:
        run_calls(spec, namespace, guarded, emit, rel_tol)
    finish()


class ClassProxy(FunctionProxy):
    def __repr__(self):
        return "<candidate class %s>" % self.__name__


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
            if problem is not None and problem[0] == "fail" and len(values) == 2:
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
    function = namespace.get(entry)
    if isinstance(function, FunctionProxy) and not isinstance(function, ClassProxy):
        return function
    solution = namespace.get("Solution")
    if isinstance(solution, ClassProxy):
        return getattr(solution(), entry)
    raise NameError("the candidate does not define the entry point %r" % entry)


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
            if problem[0] == "fail" and "got" in box:
                result["expected"] = safe_repr(expected)
                result["got"] = safe_repr(box.get("got"))
        emit(result)


main()
