# verity's channel between the judge and the candidate: plain data only.
#
# A value crosses as JSON built from None, bool, int, float, str, bytes and lists, tuples,
# dicts, sets and frozensets of those (LeetCode's ListNode and TreeNode cross as their
# structure). Anything else is refused with NotPlain. The receiving side rebuilds fresh objects
# of exactly those types, so no object of the sender (and none of its methods) ever reaches the
# receiver. Messages are framed as a 4-byte big-endian length followed by UTF-8 JSON.
import base64
import builtins
import collections
import json
import math
import struct

MAX_MESSAGE = 256 << 20
MAX_DEPTH = 2000
# Builtin types that may cross by name (MBPP passes `int`, `str` as arguments).
TYPES = {t.__name__: t for t in (int, float, str, bool, bytes, complex, list, tuple, dict, set,
                                  frozenset, type(None))}
# Standard-library dict types that cross as their items and are rebuilt as themselves.
DICTS = {"Counter": collections.Counter, "OrderedDict": collections.OrderedDict,
         "defaultdict": collections.defaultdict}
NODE_FIELDS = {"ListNode": ("val", "next"), "TreeNode": ("val", "left", "right")}


class NotPlain(Exception):
    pass


class ChannelClosed(Exception):
    pass


def _node_name(value):
    name = type(value).__name__
    fields = NODE_FIELDS.get(name)
    if fields is None:
        return None
    attrs = getattr(value, "__dict__", None)
    if type(attrs) is not dict or set(attrs) != set(fields):
        return None
    return name


def encode(value, depth=0, handle_of=None):
    if depth == 0:
        try:
            return _encode(value, 0, handle_of)
        except RecursionError:
            raise NotPlain("a value nested too deeply (or cyclic)")
    return _encode(value, depth, handle_of)


def _encode(value, depth=0, handle_of=None):
    """JSON-ready form of a plain value; raises NotPlain naming the first offending type.

    `handle_of` (judge side only) turns a proxy of a candidate object into its handle."""
    if depth > MAX_DEPTH:
        raise NotPlain("a value nested deeper than %d levels (or cyclic)" % MAX_DEPTH)
    kind = type(value)
    if value is None or kind is bool or kind is str or kind is int:
        return value
    if kind is float:
        if math.isfinite(value):
            return value
        return {"$float": repr(value)}
    if kind is list:
        return [encode(item, depth + 1, handle_of) for item in value]
    if kind is tuple:
        return {"$tuple": [encode(item, depth + 1, handle_of) for item in value]}
    if kind is set:
        return {"$set": [encode(item, depth + 1, handle_of) for item in value]}
    if kind is frozenset:
        return {"$frozenset": [encode(item, depth + 1, handle_of) for item in value]}
    if kind is bytes:
        return {"$bytes": base64.b64encode(value).decode("ascii")}
    if kind is complex:
        return {"$complex": [encode(value.real), encode(value.imag)]}
    if kind is type and TYPES.get(getattr(value, "__name__", None)) is value:
        return {"$type": value.__name__}
    for name, dict_type in DICTS.items():
        if kind is dict_type:
            return {"$" + name: [[encode(k, depth + 1, handle_of), encode(v, depth + 1, handle_of)]
                                 for k, v in value.items()]}
    if kind is dict:
        return {"$dict": [[encode(k, depth + 1, handle_of), encode(v, depth + 1, handle_of)]
                          for k, v in value.items()]}
    if handle_of is not None:
        handle = handle_of(value)
        if handle is not None:
            return {"$handle": handle}
    name = _node_name(value)
    if name == "ListNode":
        values, seen, node = [], set(), value
        while node is not None:
            if id(node) in seen:
                raise NotPlain("a cyclic ListNode list")
            if _node_name(node) != "ListNode":
                raise NotPlain("a ListNode whose next is of type %s" % type(node).__name__)
            seen.add(id(node))
            values.append(encode(node.val, depth + 1))
            node = node.next
        return {"$ListNode": values}
    if name == "TreeNode":
        return {"$TreeNode": [encode(value.val, depth + 1),
                              encode(value.left, depth + 1),
                              encode(value.right, depth + 1)]}
    raise NotPlain("a non-plain object of type %s" % _type_name(value))


def _type_name(value):
    kind = type(value)
    module = getattr(kind, "__module__", "")
    name = getattr(kind, "__qualname__", "?")
    if not isinstance(module, str) or module in ("builtins", "__verity_candidate__"):
        return str(name)
    return "%s.%s" % (module, name)


def decode(data, nodes=None, depth=0, handles=None):
    """A fresh plain value from its JSON form. `nodes` maps ListNode/TreeNode to classes;
    `handles` (candidate side only) maps handles back to the candidate's own objects."""
    if depth > MAX_DEPTH:
        raise NotPlain("a value nested deeper than %d levels" % MAX_DEPTH)
    kind = type(data)
    if data is None or kind is bool or kind is str or kind is int or kind is float:
        return data
    if kind is list:
        return [decode(item, nodes, depth + 1, handles) for item in data]
    if kind is not dict or len(data) != 1:
        raise NotPlain("a malformed value on the channel")
    (tag, body), = data.items()
    if tag == "$float" and body in ("nan", "inf", "-inf"):
        return float(body)
    if tag == "$handle" and handles is not None and type(body) is int and body in handles:
        return handles[body]
    if tag == "$type" and body in TYPES:
        return TYPES[body]
    if tag == "$bytes" and type(body) is str:
        return base64.b64decode(body.encode("ascii"), validate=True)
    if type(body) is not list:
        raise NotPlain("a malformed value on the channel")
    pairs = tag == "$dict" or tag[1:] in DICTS
    items = [decode(item, nodes, depth + 1, handles) for item in body] if not pairs else None
    if tag == "$tuple":
        return tuple(items)
    if tag == "$set":
        return set(items)
    if tag == "$frozenset":
        return frozenset(items)
    if tag == "$complex" and len(items) == 2 and all(type(i) is float for i in items):
        return complex(items[0], items[1])
    if pairs:
        out = {} if tag == "$dict" else DICTS[tag[1:]]()
        for pair in body:
            if type(pair) is not list or len(pair) != 2:
                raise NotPlain("a malformed dict on the channel")
            out[decode(pair[0], nodes, depth + 1, handles)] = decode(pair[1], nodes, depth + 1, handles)
        return out
    if tag == "$ListNode":
        cls = _node_class(nodes, "ListNode")
        head = None
        for val in reversed(items):
            node = cls.__new__(cls)
            node.val, node.next = val, head
            head = node
        return head
    if tag == "$TreeNode" and len(items) == 3:
        cls = _node_class(nodes, "TreeNode")
        node = cls.__new__(cls)
        node.val, node.left, node.right = items
        return node
    raise NotPlain("an unknown tag %r on the channel" % tag[:40])


class _Node:
    def __repr__(self):
        return "%s(%r)" % (type(self).__name__, self.__dict__)


def _node_class(nodes, name):
    cls = (nodes or {}).get(name)
    if isinstance(cls, type):
        return cls
    return type(name, (_Node,), {})


def send(sock, message):
    body = json.dumps(message, allow_nan=False).encode("utf-8")
    sock.sendall(struct.pack(">I", len(body)) + body)


def _read_exact(sock, count):
    chunks = []
    while count:
        chunk = sock.recv(min(count, 1 << 20))
        if not chunk:
            raise ChannelClosed()
        chunks.append(chunk)
        count -= len(chunk)
    return b"".join(chunks)


def receive(sock):
    (length,) = struct.unpack(">I", _read_exact(sock, 4))
    if length > MAX_MESSAGE:
        raise NotPlain("a message of %d bytes (limit %d)" % (length, MAX_MESSAGE))
    message = json.loads(_read_exact(sock, length).decode("utf-8"))
    if type(message) is not dict:
        raise NotPlain("a malformed message on the channel")
    return message
