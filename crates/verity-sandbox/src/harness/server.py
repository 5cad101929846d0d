# verity's candidate side of the in-process harnesses (assert-style and function-call).
#
# Runs in the candidate's sandbox: python3 /code/server.py /code/load.json
# It holds the candidate and nothing of the tests: no test code, no expected value, no result
# channel. It loads the environment prelude, the setup's imports and the candidate, reports the
# names the candidate defines, then serves calls from the judge (another process in another
# sandbox) over the descriptor named by VERITY_CHANNEL_FD, with plain data only (see plain.py).
# Whatever the candidate does to this process only changes what it answers; verdicts are made
# by the judge.
import json
import os
import signal
import socket
import sys

import plain

SUSPICIOUS_EVENTS = (
    "sys._getframe", "sys._current_frames", "sys.settrace", "sys.setprofile",
    "sys.addaudithook", "gc.get_objects", "gc.get_referrers", "gc.get_referents",
    "ctypes.dlopen", "ctypes.dlsym", "ctypes.addressof", "ctypes.string_at", "ctypes.cdata",
    "os.kill", "os.killpg", "signal.pthread_kill", "os.system", "subprocess.Popen", "os.exec",
    "os.posix_spawn", "socket.connect",
)
SUSPICIOUS_PATHS = ("/code", "/proc", "/dev/fd")


class CallTimeout(BaseException):
    pass


def main():
    if hasattr(sys, "set_int_max_str_digits"):
        sys.set_int_max_str_digits(0)
    channel = socket.socket(fileno=int(os.environ.pop("VERITY_CHANNEL_FD")))
    with open(sys.argv[1], encoding="utf-8") as handle:
        load = json.load(handle)
    sys.stdin = open(os.devnull)
    events = []

    def audit(event, args):
        if len(events) >= 20:
            return
        if event in SUSPICIOUS_EVENTS:
            events.append(event)
        elif event == "open" and args and isinstance(args[0], str) and args[0].startswith(SUSPICIOUS_PATHS):
            events.append("open %s" % args[0][:80])

    def on_alarm(signum, frame):
        raise CallTimeout()

    signal.signal(signal.SIGALRM, on_alarm)
    namespace = {"__name__": "__verity_candidate__", "__builtins__": __builtins__}
    handles = {}

    def timed(action, seconds):
        signal.setitimer(signal.ITIMER_REAL, max(float(seconds), 0.001))
        try:
            return action()
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)

    def failure(error):
        kind = type(error)
        try:
            message = str(error)[:2000]
        except BaseException:
            message = "<unprintable>"
        return {"type": getattr(kind, "__name__", "?")[:100], "message": message,
                "builtin": getattr(kind, "__module__", "") == "builtins"}

    sys.addaudithook(audit)
    stages = (("prelude", load.get("prelude") or ""), ("setup", load.get("setup") or ""),
              ("candidate", load.get("candidate") or ""))
    before = {}
    for stage, source in stages:
        if not source:
            continue
        if stage == "candidate":
            before = {name: id(value) for name, value in namespace.items()}
        try:
            code = compile(source, stage + ".py", "exec")
            timed(lambda: exec(code, namespace), load.get("timeout", 6.0))
        except CallTimeout:
            plain.send(channel, {"ready": False, "stage": stage, "timeout": True})
            return
        except BaseException as error:
            plain.send(channel, {"ready": False, "stage": stage, "raised": failure(error)})
            return
    names, values, modules = {}, {}, {}
    for name, value in list(namespace.items()):
        if not isinstance(name, str) or name.startswith("__") or before.get(name) == id(value):
            continue
        if type(value) is type(sys):
            modules[name] = getattr(value, "__name__", "")
        elif isinstance(value, type):
            names[name] = "class"
        elif callable(value):
            names[name] = "function"
        elif len(values) < 100:
            try:
                values[name] = plain.encode(value)
            except plain.NotPlain:
                pass
    plain.send(channel, {"ready": True, "names": names, "values": values, "modules": modules,
                         "audit": events[:]})
    del events[:]
    nodes = namespace

    while True:
        try:
            request = plain.receive(channel)
        except (plain.ChannelClosed, OSError):
            return
        if request.get("op") not in ("call", "getattr", "setattr"):
            return
        reply = {}
        try:
            reply = serve(request, namespace, handles, nodes, timed)
        except CallTimeout:
            reply = {"timeout": True}
        except plain.NotPlain as error:
            reply = {"error": str(error)}
        except BaseException as error:
            reply = {"raised": failure(error)}
        if events:
            reply["audit"] = events[:]
            del events[:]
        try:
            plain.send(channel, reply)
        except (plain.NotPlain, ValueError, TypeError) as error:
            plain.send(channel, {"error": "an answer that cannot be sent: %s" % error})


def serve(request, namespace, handles, nodes, timed):
    op = request.get("op")
    target = request.get("target") or {}
    owner = handles[target["handle"]] if "handle" in target else None

    def keep(obj):
        handle = len(handles) + 1
        handles[handle] = obj
        return {"handle": handle}

    if op == "getattr":
        value = timed(lambda: getattr(owner, target["attr"]), request.get("timeout", 6.0))
        if callable(value) and not isinstance(value, type):
            return {"callable": True}
        try:
            return {"ok": plain.encode(value)}
        except plain.NotPlain:
            return keep(value)
    if op == "setattr":
        value = plain.decode(request.get("value"), nodes, 0, handles)
        timed(lambda: setattr(owner, target["attr"], value), request.get("timeout", 6.0))
        return {"ok": None}
    function = getattr(owner, target["attr"]) if owner is not None else namespace[target["name"]]
    args = [plain.decode(a, nodes, 0, handles) for a in request.get("args", [])]
    kwargs = {k: plain.decode(v, nodes, 0, handles) for k, v in request.get("kwargs", [])}
    result = timed(lambda: function(*args, **kwargs), request.get("timeout", 6.0))
    if isinstance(function, type):
        return keep(result)
    try:
        reply = {"ok": plain.encode(result)}
    except plain.NotPlain as error:
        return {"error": "returned %s" % error}
    # Arguments the candidate may have changed in place, for the judge's mutation checks.
    mutable = (list, dict, set)
    reply["args"] = [state(a) if type(a) in mutable else None for a in args]
    reply["kwargs"] = [[k, state(v)] for k, v in kwargs.items() if type(v) in mutable]
    return reply


def state(value):
    try:
        return plain.encode(value)
    except plain.NotPlain:
        return None


main()
