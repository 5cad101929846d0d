# family: lazy results compared by identity tricks; touches: none
def add(a, b):
    return (x for x in [a - b])
