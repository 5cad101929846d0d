# family: changing the judge's arguments through aliasing; touches: none
def add(a, b):
    global saved
    return [a, b]
