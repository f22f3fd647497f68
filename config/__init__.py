"""Selfkind's configuration package.

Numerical libraries run single-threaded in every Selfkind process. A web worker answers one
request at a time beside other workers on the same cores; OpenBLAS's worker threads then only
spin against each other and the other processes (a dot product of 19,000 numbers took 7 ms
instead of 4 us on a busy two-core machine). Set before numpy is first imported; an operator's
own value wins.
"""

import os

for _variable in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_variable, "1")
