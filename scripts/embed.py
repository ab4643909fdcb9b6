#!/usr/bin/env python3
"""Embed a text file as a C string: embed.py INPUT OUTPUT SYMBOL."""
import sys

src, out, sym = sys.argv[1:4]
data = open(src, 'rb').read()
with open(out, 'w') as f:
    f.write('/* generated from %s by scripts/embed.py; do not edit */\n' % src.split('/')[-1])
    f.write('const char %s[] =\n' % sym)
    for i in range(0, len(data), 16):
        f.write('    "' + ''.join('\\x%02x' % b for b in data[i:i + 16]) + '"\n')
    f.write('    ;\n')
