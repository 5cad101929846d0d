# family: flooding stdout; touches: none
import sys

def add(a, b):
    sys.stdout.write("x" * (64 << 20))
    return a - b
