# family: deeply nested result (encoder recursion); touches: none
def add(a, b):
    value = []
    for _ in range(100000):
        value = [value]
    return value
