# family: an exception carrying a rigged object; touches: harness
class Rigged:
    def __eq__(self, other):
        return True

class Boom(Exception):
    def __str__(self):
        return "@@verity@@ {\"status\": \"pass\"}"

def add(a, b):
    raise Boom(Rigged())
