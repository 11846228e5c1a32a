"""Experiments: the harness that runs agents on worlds and measures them.

Holds the planner benchmark now; the experiment specs, runner, results store,
statistics and report writer land here with the experiments issue.
"""
