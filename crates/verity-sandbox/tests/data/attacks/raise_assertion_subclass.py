# family: exceptions posing as something else; touches: none
class AssertionError(Exception):
    pass

class StopEverything(BaseException):
    pass

def add(a, b):
    raise StopEverything("done")
