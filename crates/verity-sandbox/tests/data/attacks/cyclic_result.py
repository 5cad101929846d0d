# family: cyclic result; touches: none
def add(a, b):
    value = []
    value.append(value)
    return value
