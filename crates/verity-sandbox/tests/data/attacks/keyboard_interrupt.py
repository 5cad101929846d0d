# family: KeyboardInterrupt / GeneratorExit thrown at the harness; touches: none
def add(a, b):
    raise KeyboardInterrupt()
