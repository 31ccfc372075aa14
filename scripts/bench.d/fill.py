"""Writes RESP for N XADDs (two w for every l) to stdout, for `redis-cli --pipe`."""
import sys

key, count = sys.argv[1], int(sys.argv[2])
head = f"*5\r\n$4\r\nXADD\r\n${len(key)}\r\n{key}\r\n$1\r\n*\r\n$5\r\ntrial\r\n$1\r\n"
w, l = (head + "w\r\n").encode(), (head + "l\r\n").encode()
out = sys.stdout.buffer
for i in range(count):
    out.write(l if i % 3 == 0 else w)
