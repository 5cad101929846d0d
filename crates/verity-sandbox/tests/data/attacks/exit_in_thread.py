# family: exiting early from a thread; touches: harness
import os, threading, time

def later():
    time.sleep(0.05)
    os._exit(0)

threading.Thread(target=later, daemon=True).start()

def add(a, b):
    time.sleep(1)
    return a - b
