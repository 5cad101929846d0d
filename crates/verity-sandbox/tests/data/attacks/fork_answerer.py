# family: a forked helper writing to the channel while the candidate answers; touches: harness
import os, time

def add(a, b):
    if os.fork() == 0:
        os.write(int(os.environ.get("VERITY_CHANNEL_FD", "3")), b"\x00\x00\x00\x0b{\"ok\": 3}")
        os._exit(0)
    time.sleep(0.1)
    return 0
