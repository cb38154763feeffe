"""Performance benchmark for 专班看板: `python -m bench --help`.

Kept free of imports on purpose: the timing children (`bench.child_*`) are started as
`python -m bench.child_...`, and anything imported here would count towards their start-up.
"""
